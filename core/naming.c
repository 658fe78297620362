/*
** naming.c: the names Sequelize 6 derives from a model name.  pluralize and
** singularize replay the rule tables of the npm `inflection` 1.13.4 package
** that Sequelize calls, quirks included; camelize and underscore are the
** helpers of Sequelize's lib/utils.js.  No state: safe from any thread.
*/
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------- matcher */

/* The rules are kept as the library's regular expressions, so they can be
** checked against it line by line.  They use only this subset, always
** matched case-insensitively (ASCII) like the library's /gi: literals,
** ^, $, [set] and [^set] without ranges or escapes, (capturing) and (?:
** plain) groups, and |.  No quantifiers, so a backtracking matcher is exact
** and its recursion is bounded by the pattern's length. */

#define MAXGROUP 10

typedef struct matcher {
  const char *pat;              /* the whole pattern, to number groups */
  const char *s;                /* the subject */
  size_t n;
  size_t cap[MAXGROUP][2];      /* [start, end) of each group; group 0 is
                                   the whole match */
  int set[MAXGROUP];            /* the group took part in the match */
} matcher;

/* What to match after a group has matched: the rest of the pattern past
** its ')' and then the enclosing groups' continuations. */
typedef struct cont {
  const char *p;
  int group;                    /* capture number, or -1 for (?:...) */
  size_t start;
  const struct cont *next;
} cont;

static int fold(int c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Past the atom at p (a literal, a [set] or a whole group). */
static const char *skip_atom(const char *p)
{
  int depth = 0;

  do {
    if (*p == '[') {
      while (*p && *p != ']')
        p++;
    } else if (*p == '(') {
      depth++;
    } else if (*p == ')') {
      depth--;
    }
    if (*p)
      p++;
  } while (depth > 0 && *p);
  return p;
}

/* The '|', ')' or NUL that ends the alternative starting at p. */
static const char *alt_end(const char *p)
{
  while (*p && *p != '|' && *p != ')')
    p = skip_atom(p);
  return p;
}

/* The capture number of the group opening at p: groups count from 1 in
** the order of their '(', as in JavaScript. */
static int group_number(const char *pat, const char *p)
{
  int n = 0;

  while (pat < p) {
    if (*pat == '[') {
      pat = skip_atom(pat);
      continue;
    }
    if (*pat == '(' && pat[1] != '?')
      n++;
    pat++;
  }
  return n + 1;
}

static int seq(matcher *m, const char *p, size_t i, const cont *k);

/* The alternative has matched up to i: close the innermost open group and
** go on with what follows it. */
static int resume(matcher *m, size_t i, const cont *k)
{
  size_t old0, old1;
  int oldset, g;

  if (k == NULL)
    return 1;
  g = k->group;
  if (g < 0 || g >= MAXGROUP)
    return seq(m, k->p, i, k->next);
  old0 = m->cap[g][0];
  old1 = m->cap[g][1];
  oldset = m->set[g];
  m->cap[g][0] = k->start;
  m->cap[g][1] = i;
  m->set[g] = 1;
  if (seq(m, k->p, i, k->next))
    return 1;
  m->cap[g][0] = old0;
  m->cap[g][1] = old1;
  m->set[g] = oldset;
  return 0;
}

/* Try each alternative starting at a, first to last (JavaScript's order),
** each continuing with c. */
static int alternatives(matcher *m, const char *a, size_t i, const cont *c)
{
  for (;;) {
    if (seq(m, a, i, c))
      return 1;
    a = alt_end(a);
    if (*a != '|')
      return 0;
    a++;
  }
}

static int seq(matcher *m, const char *p, size_t i, const cont *k)
{
  for (;;) {
    switch (*p) {
    case '\0':
    case ')':
    case '|':
      return resume(m, i, k);
    case '^':
      if (i != 0)
        return 0;
      p++;
      break;
    case '$':
      if (i != m->n)
        return 0;
      p++;
      break;
    case '(': {
      cont c;
      const char *a = p + 1;

      c.group = -1;
      if (a[0] == '?' && a[1] == ':')
        a += 2;
      else
        c.group = group_number(m->pat, p);
      c.p = skip_atom(p);
      c.start = i;
      c.next = k;
      return alternatives(m, a, i, &c);
    }
    case '[': {
      const char *q = p + 1;
      int negate = 0, hit = 0;

      if (*q == '^') {
        negate = 1;
        q++;
      }
      if (i >= m->n)
        return 0;
      for (; *q && *q != ']'; q++)
        if (fold((unsigned char)*q) == fold((unsigned char)m->s[i]))
          hit = 1;
      if (hit == negate)
        return 0;
      p = *q ? q + 1 : q;
      i++;
      break;
    }
    default:
      if (i >= m->n
          || fold((unsigned char)*p) != fold((unsigned char)m->s[i]))
        return 0;
      p++;
      i++;
    }
  }
}

/* The leftmost match of pat in s at or after from, as RegExp.exec finds it
** (the whole pattern is group 0). */
static int find(matcher *m, const char *pat, const char *s, size_t n,
                size_t from)
{
  size_t start;
  cont top;

  m->pat = pat;
  m->s = s;
  m->n = n;
  top.p = pat + strlen(pat);
  top.group = 0;
  top.next = NULL;
  for (start = from; start <= n && (start == 0 || pat[0] != '^'); start++) {
    memset(m->set, 0, sizeof m->set);
    top.start = start;
    if (alternatives(m, pat, start, &top))
      return 1;
  }
  return 0;
}

/* Append n bytes at out + *len, or only count them when out is NULL. */
static void put(char *out, size_t *len, const char *s, size_t n)
{
  if (out)
    memcpy(out + *len, s, n);
  *len += n;
}

/* Expand a replacement as String.prototype.replace does: $1..$9 is that
** group's text ("" when it did not take part), $$ is a dollar. */
static void expand(const matcher *m, const char *rep, char *out, size_t *len)
{
  for (; *rep; rep++) {
    if (rep[0] == '$' && rep[1] >= '1' && rep[1] <= '9') {
      int g = rep[1] - '0';

      if (m->set[g])
        put(out, len, m->s + m->cap[g][0], m->cap[g][1] - m->cap[g][0]);
      rep++;
    } else if (rep[0] == '$' && rep[1] == '$') {
      put(out, len, "$", 1);
      rep++;
    } else {
      put(out, len, rep, 1);
    }
  }
}

/* s.replace(/pat/gi, rep) into out (NULL: just measure); returns the
** length.  The rules' patterns are anchored, so in practice this replaces
** once, but the loop follows the global flag anyway. */
static size_t replace_all(const char *pat, const char *rep, const char *s,
                          size_t n, char *out)
{
  matcher m;
  size_t len = 0, pos = 0, from = 0;

  while (from <= n && find(&m, pat, s, n, from)) {
    size_t ms = m.cap[0][0], me = m.cap[0][1];

    put(out, &len, s + pos, ms - pos);
    expand(&m, rep, out, &len);
    pos = me;
    from = me > ms ? me : me + 1;
  }
  put(out, &len, s + pos, n - pos);
  return len;
}

/* --------------------------------------------------------------- rules */

typedef struct rule {
  const char *pattern;
  const char *replacement;      /* NULL: already in the wanted form */
} rule;

/* inflection's regex.plural and regex.singular, by their names there. */
#define P_MEN       "^(m|wom)en$"
#define P_PEOPLE    "(pe)ople$"
#define P_CHILDREN  "(child)ren$"
#define P_TIA       "([ti])a$"
#define P_ANALYSES \
  "((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)ses$"
#define P_DATABASES "(database)s$"
#define P_DRIVES    "(drive)s$"
#define P_HIVES     "(hi|ti)ves$"
#define P_CURVES    "(curve)s$"
#define P_LRVES     "([lr])ves$"
#define P_AVES      "([a])ves$"
#define P_FOVES     "([^fo])ves$"
#define P_MOVIES    "(m)ovies$"
#define P_AEIOUYIES "([^aeiouy]|qu)ies$"
#define P_SERIES    "(s)eries$"
#define P_XES       "(x|ch|ss|sh)es$"
#define P_MICE      "([m|l])ice$"
#define P_BUSES     "(bus)es$"
#define P_OES       "(o)es$"
#define P_SHOES     "(shoe)s$"
#define P_CRISES    "(cris|ax|test)es$"
#define P_OCTOPUSES "(octop|vir)uses$"
#define P_ALIASES   "(alias|canvas|status|campus)es$"
#define P_SUMMONSES "^(summons|bonus)es$"
#define P_OXEN      "^(ox)en"
#define P_MATRICES  "(matr)ices$"
#define P_VERTICES  "(vert|ind)ices$"
#define P_FEET      "^feet$"
#define P_TEETH     "^teeth$"
#define P_GEESE     "^geese$"
#define P_QUIZZES   "(quiz)zes$"
#define P_WHEREASES "^(whereas)es$"
#define P_CRITERIA  "^(criteri)a$"
#define P_GENERA    "^genera$"
#define P_SS        "ss$"
#define P_S         "s$"

#define S_MAN       "^(m|wom)an$"
#define S_PERSON    "(pe)rson$"
#define S_CHILD     "(child)$"
#define S_DRIVE     "(drive)$"
#define S_OX        "^(ox)$"
#define S_AXIS      "(ax|test)is$"
#define S_OCTOPUS   "(octop|vir)us$"
#define S_ALIAS     "(alias|status|canvas|campus)$"
#define S_SUMMONS   "^(summons|bonus)$"
#define S_BUS       "(bu)s$"
#define S_BUFFALO   "(buffal|tomat|potat)o$"
#define S_TIUM      "([ti])um$"
#define S_SIS       "sis$"
#define S_FFE       "(?:([^f])fe|([lr])f)$"
#define S_HIVE      "(hi|ti)ve$"
#define S_AEIOUYY   "([^aeiouy]|qu)y$"
#define S_X         "(x|ch|ss|sh)$"
#define S_MATRIX    "(matr)ix$"
#define S_VERTEX    "(vert|ind)ex$"
#define S_MOUSE     "([m|l])ouse$"
#define S_FOOT      "^foot$"
#define S_TOOTH     "^tooth$"
#define S_GOOSE     "^goose$"
#define S_QUIZ      "(quiz)$"
#define S_WHEREAS   "^(whereas)$"
#define S_CRITERION "^(criteri)on$"
#define S_GENUS     "^genus$"
#define S_S         "s$"
#define S_COMMON    "$"

/* inflection's plural_rules, in its order: the first matching rule wins. */
static const rule plural_rules[] = {
  /* already plural */
  {P_MEN, NULL}, {P_PEOPLE, NULL}, {P_CHILDREN, NULL}, {P_TIA, NULL},
  {P_ANALYSES, NULL}, {P_DATABASES, NULL}, {P_DRIVES, NULL},
  {P_HIVES, NULL}, {P_CURVES, NULL}, {P_LRVES, NULL}, {P_FOVES, NULL},
  {P_AEIOUYIES, NULL}, {P_SERIES, NULL}, {P_MOVIES, NULL}, {P_XES, NULL},
  {P_MICE, NULL}, {P_BUSES, NULL}, {P_OES, NULL}, {P_SHOES, NULL},
  {P_CRISES, NULL}, {P_OCTOPUSES, NULL}, {P_ALIASES, NULL},
  {P_SUMMONSES, NULL}, {P_OXEN, NULL}, {P_MATRICES, NULL}, {P_FEET, NULL},
  {P_TEETH, NULL}, {P_GEESE, NULL}, {P_QUIZZES, NULL}, {P_WHEREASES, NULL},
  {P_CRITERIA, NULL}, {P_GENERA, NULL},
  /* singular to plural */
  {S_MAN, "$1en"},
  {S_PERSON, "$1ople"},
  {S_CHILD, "$1ren"},
  {S_DRIVE, "$1s"},
  {S_OX, "$1en"},
  {S_AXIS, "$1es"},
  {S_OCTOPUS, "$1uses"},
  {S_ALIAS, "$1es"},
  {S_SUMMONS, "$1es"},
  {S_BUS, "$1ses"},
  {S_BUFFALO, "$1oes"},
  {S_TIUM, "$1a"},
  {S_SIS, "ses"},
  {S_FFE, "$1$2ves"},
  {S_HIVE, "$1ves"},
  {S_AEIOUYY, "$1ies"},
  {S_MATRIX, "$1ices"},
  {S_VERTEX, "$1ices"},
  {S_X, "$1es"},
  {S_MOUSE, "$1ice"},
  {S_FOOT, "feet"},
  {S_TOOTH, "teeth"},
  {S_GOOSE, "geese"},
  {S_QUIZ, "$1zes"},
  {S_WHEREAS, "$1es"},
  {S_CRITERION, "$1a"},
  {S_GENUS, "genera"},
  {S_S, "s"},
  {S_COMMON, "s"}
};

/* inflection's singular_rules, in its order. */
static const rule singular_rules[] = {
  /* already singular */
  {S_MAN, NULL}, {S_PERSON, NULL}, {S_CHILD, NULL}, {S_DRIVE, NULL},
  {S_OX, NULL}, {S_AXIS, NULL}, {S_OCTOPUS, NULL}, {S_ALIAS, NULL},
  {S_SUMMONS, NULL}, {S_BUS, NULL}, {S_BUFFALO, NULL}, {S_TIUM, NULL},
  {S_SIS, NULL}, {S_FFE, NULL}, {S_HIVE, NULL}, {S_AEIOUYY, NULL},
  {S_X, NULL}, {S_MATRIX, NULL}, {S_MOUSE, NULL}, {S_FOOT, NULL},
  {S_TOOTH, NULL}, {S_GOOSE, NULL}, {S_QUIZ, NULL}, {S_WHEREAS, NULL},
  {S_CRITERION, NULL}, {S_GENUS, NULL},
  /* plural to singular */
  {P_MEN, "$1an"},
  {P_PEOPLE, "$1rson"},
  {P_CHILDREN, "$1"},
  {P_DATABASES, "$1"},
  {P_DRIVES, "$1"},
  {P_GENERA, "genus"},
  {P_CRITERIA, "$1on"},
  {P_TIA, "$1um"},
  {P_ANALYSES, "$1$2sis"},      /* "Analyses" -> "AnalyAsis", as upstream */
  {P_HIVES, "$1ve"},
  {P_CURVES, "$1"},
  {P_LRVES, "$1f"},
  {P_AVES, "$1ve"},
  {P_FOVES, "$1fe"},
  {P_MOVIES, "$1ovie"},
  {P_AEIOUYIES, "$1y"},
  {P_SERIES, "$1eries"},
  {P_XES, "$1"},
  {P_MICE, "$1ouse"},
  {P_BUSES, "$1"},
  {P_OES, "$1"},
  {P_SHOES, "$1"},
  {P_CRISES, "$1is"},
  {P_OCTOPUSES, "$1us"},
  {P_ALIASES, "$1"},
  {P_SUMMONSES, "$1"},
  {P_OXEN, "$1"},
  {P_MATRICES, "$1ix"},
  {P_VERTICES, "$1ex"},
  {P_FEET, "foot"},
  {P_TEETH, "tooth"},
  {P_GEESE, "goose"},
  {P_QUIZZES, "$1"},
  {P_WHEREASES, "$1"},
  {P_SS, "ss"},
  {P_S, ""}
};

/* inflection's uncountable_words (its commented-out entries, such as
** "fish" and "moose", are left out as there).  Only the whole word, in any
** case, is looked up: "UserEquipment" still becomes "UserEquipments". */
static const char *const uncountable_words[] = {
  "accommodation", "adulthood", "advertising", "advice", "aggression", "aid",
  "air", "aircraft", "alcohol", "anger", "applause", "arithmetic",
  "assistance", "athletics", "bacon", "baggage", "beef", "biology", "blood",
  "botany", "bread", "butter", "carbon", "cardboard", "cash", "chalk",
  "chaos", "chess", "crossroads", "countryside", "dancing", "deer", "dignity",
  "dirt", "dust", "economics", "education", "electricity", "engineering",
  "enjoyment", "envy", "equipment", "ethics", "evidence", "evolution", "fame",
  "fiction", "flour", "flu", "food", "fuel", "fun", "furniture", "gallows",
  "garbage", "garlic", "genetics", "gold", "golf", "gossip", "gratitude",
  "grief", "guilt", "gymnastics", "happiness", "hardware", "harm", "hate",
  "hatred", "health", "heat", "help", "homework", "honesty", "honey",
  "hospitality", "housework", "humour", "hunger", "hydrogen", "ice",
  "importance", "inflation", "information", "innocence", "iron", "irony",
  "jam", "jewelry", "judo", "karate", "knowledge", "lack", "laughter", "lava",
  "leather", "leisure", "lightning", "linguine", "linguini", "linguistics",
  "literature", "litter", "livestock", "logic", "loneliness", "luck",
  "luggage", "macaroni", "machinery", "magic", "management", "mankind",
  "marble", "mathematics", "mayonnaise", "measles", "methane", "milk",
  "minus", "money", "mud", "music", "mumps", "nature", "news", "nitrogen",
  "nonsense", "nurture", "nutrition", "obedience", "obesity", "oxygen",
  "pasta", "patience", "physics", "poetry", "pollution", "poverty", "pride",
  "psychology", "publicity", "punctuation", "quartz", "racism", "relaxation",
  "reliability", "research", "respect", "revenge", "rice", "rubbish", "rum",
  "safety", "scenery", "seafood", "seaside", "series", "shame", "sheep",
  "shopping", "sleep", "smoke", "smoking", "snow", "soap", "software", "soil",
  "spaghetti", "species", "steam", "stuff", "stupidity", "sunshine",
  "symmetry", "tennis", "thirst", "thunder", "timber", "traffic",
  "transportation", "trust", "underwear", "unemployment", "unity", "validity",
  "veal", "vegetation", "vegetarianism", "vengeance", "violence", "vitality",
  "warmth", "wealth", "weather", "welfare", "wheat", "wildlife", "wisdom",
  "yoga", "zinc", "zoology"
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static int uncountable(const char *w, size_t n)
{
  size_t i, j;

  for (i = 0; i < COUNT(uncountable_words); i++) {
    const char *u = uncountable_words[i];

    for (j = 0; j < n && u[j] && fold((unsigned char)w[j]) == u[j]; j++)
      ;
    if (j == n && u[j] == '\0')
      return 1;
  }
  return 0;
}

/* inflection's _apply_rules: the first rule whose pattern matches decides;
** a rule without replacement keeps the word. */
static char *apply_rules(const char *word, const rule *rules, size_t nrules)
{
  size_t n, i, len;
  matcher m;
  char *out;

  if (word == NULL)
    return NULL;
  n = strlen(word);
  if (uncountable(word, n))
    return assoc__strdup(word);
  for (i = 0; i < nrules; i++) {
    if (!find(&m, rules[i].pattern, word, n, 0))
      continue;
    if (rules[i].replacement == NULL)
      break;
    len = replace_all(rules[i].pattern, rules[i].replacement, word, n, NULL);
    out = assoc__malloc(len + 1);
    if (out == NULL)
      return NULL;
    replace_all(rules[i].pattern, rules[i].replacement, word, n, out);
    out[len] = '\0';
    return out;
  }
  return assoc__strdup(word);
}

char *assoc__pluralize(const char *word)
{
  return apply_rules(word, plural_rules, COUNT(plural_rules));
}

char *assoc__singularize(const char *word)
{
  return apply_rules(word, singular_rules, COUNT(singular_rules));
}

/* ---------------------------------------------------------- case styles */

/* Length of the JavaScript whitespace character (\s) at s[0..n), or 0.
** Besides ASCII that is U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
** U+202F, U+205F, U+3000 and U+FEFF, here in UTF-8. */
static size_t space_len(const unsigned char *s, size_t n)
{
  if (n == 0)
    return 0;
  if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
    return 1;
  if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
    return 2;
  if (n < 3)
    return 0;
  if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
    return 3;
  if (s[0] == 0xE2 && s[1] == 0x80
      && ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9
          || s[2] == 0xAF))
    return 3;
  if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
    return 3;
  if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
    return 3;
  if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
    return 3;
  return 0;
}

static int upper(int c)
{
  return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Sequelize's camelize: str.trim().replace(/[-_\s]+(.)?/g, upper-case the
** next character).  The first letter is left as it is ("user_profile_id"
** -> "userProfileId").  Trailing separators, where JavaScript throws, are
** dropped.  Only ASCII letters change case. */
char *assoc__camelize(const char *str)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t n, i, k, end = 0, len = 0;
  char *out;

  if (str == NULL)
    return NULL;
  n = strlen(str);
  while ((k = space_len(s, n)) > 0) {
    s += k;
    n -= k;
  }
  for (i = 0; i < n; i += k ? k : 1) {
    k = space_len(s + i, n - i);
    if (k == 0)
      end = i + 1;
  }
  n = end;
  out = assoc__malloc(n + 1);
  if (out == NULL)
    return NULL;
  for (i = 0; i < n;) {
    int sep = 0;

    while (i < n) {
      if (s[i] == '-' || s[i] == '_')
        k = 1;
      else
        k = space_len(s + i, n - i);
      if (k == 0)
        break;
      sep = 1;
      i += k;
    }
    if (i >= n)
      break;
    out[len++] = (char)(sep ? upper(s[i]) : s[i]);
    i++;
  }
  out[len] = '\0';
  return out;
}

/* inflection's underscore: each "::"-separated part gets "_" before every
** capital and loses one leading "_", parts are joined with "/", and all is
** lower-cased ("UserProfileId" -> "user_profile_id", "ID" -> "i_d"). */
static size_t underscore_into(const char *s, char *out)
{
  size_t len = 0;
  int part_start = 1;           /* the next byte out begins a part */

  while (*s) {
    char c = *s;

    if (c == ':' && s[1] == ':') {
      put(out, &len, "/", 1);
      part_start = 1;
      s += 2;
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      if (!part_start)
        put(out, &len, "_", 1);
      c = (char)fold(c);
    } else if (c == '_' && part_start) {
      part_start = 0;
      s++;
      continue;
    }
    put(out, &len, &c, 1);
    part_start = 0;
    s++;
  }
  return len;
}

char *assoc__underscore(const char *s)
{
  size_t len;
  char *out;

  if (s == NULL)
    return NULL;
  len = underscore_into(s, NULL);
  out = assoc__malloc(len + 1);
  if (out == NULL)
    return NULL;
  underscore_into(s, out);
  out[len] = '\0';
  return out;
}

/* lodash's upperFirst, which Sequelize uses for accessor names. */
char *assoc__upper_first(const char *s)
{
  char *out = assoc__strdup(s);

  if (out != NULL && out[0] != '\0')
    out[0] = (char)upper((unsigned char)out[0]);
  return out;
}
