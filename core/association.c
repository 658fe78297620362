/*
** association.c: declaring associations (names, keys, the join model and
** the foreign-key columns, all or nothing) and the accessor entry points,
** which check the arguments once and dispatch to the kind's file.  Also the
** helpers the four kind files share (assoc__assoc_*).
*/
#include <string.h>

#include "association.h"

/* ---------------------------------------------------------------- names */

static const char *method_name(assoc_assoc_kind kind) {
  switch (kind) {
  case ASSOC_HAS_MANY: return "hasMany";
  case ASSOC_BELONGS_TO: return "belongsTo";
  case ASSOC_HAS_ONE: return "hasOne";
  case ASSOC_BELONGS_TO_MANY: return "belongsToMany";
  }
  return "association";
}

static int is_multi(assoc_assoc_kind kind) {
  return kind == ASSOC_HAS_MANY || kind == ASSOC_BELONGS_TO_MANY;
}

/* camelize(a + "_" + b): Sequelize's default key names. */
static char *key_name(const char *a, const char *b) {
  assoc_buf t;
  char *s, *r;
  assoc__buf_init(&t);
  assoc__buf_puts(&t, a);
  assoc__buf_putc(&t, '_');
  assoc__buf_puts(&t, b);
  s = assoc__buf_take(&t);
  if (!s) return NULL;
  r = assoc__camelize(s);
  assoc__free(s);
  return r;
}

static char *prefixed(const char *prefix, const char *name) {
  assoc_buf t;
  char *up = assoc__upper_first(name);
  if (!up) return NULL;
  assoc__buf_init(&t);
  assoc__buf_puts(&t, prefix);
  assoc__buf_puts(&t, up);
  assoc__free(up);
  return assoc__buf_take(&t);
}

static int set_accessors(assoc_association *a) {
  static const char *const multi[ASSOC_ACCESSOR_COUNT] = {
    "get", "set", "add", "add", "create", "remove", "remove", "has", "has",
    "count"
  };
  /* 1: the plural name, 0: the singular one (SEMANTICS 2.2). */
  static const int plural[ASSOC_ACCESSOR_COUNT] = {
    1, 1, 0, 1, 0, 0, 1, 0, 1, 1
  };
  int i;
  for (i = 0; i < ASSOC_ACCESSOR_COUNT; i++) {
    if (!is_multi(a->kind) && i != ASSOC_ACC_GET && i != ASSOC_ACC_SET &&
        i != ASSOC_ACC_CREATE)
      continue;
    a->accessors[i] = prefixed(multi[i], is_multi(a->kind) && plural[i]
                                             ? a->plural : a->singular);
    if (!a->accessors[i]) return ASSOC_NOMEM;
  }
  return ASSOC_OK;
}

/* as, singular and plural per SEMANTICS 2.2. */
static int set_names(assoc_association *a, const assoc_association_opts *o) {
  const char *sing = o->as_singular, *plur = o->as_plural;
  if (!sing && !plur && o->as) {
    if (is_multi(a->kind)) plur = o->as;
    else sing = o->as;
  }
  if (!sing && !plur) {
    a->singular = assoc__strdup(a->target->singular);
    a->plural = assoc__strdup(a->target->plural);
  } else {
    a->singular = sing ? assoc__strdup(sing) : assoc__singularize(plur);
    a->plural = plur ? assoc__strdup(plur) : assoc__pluralize(sing);
  }
  if (!a->singular || !a->plural) return ASSOC_NOMEM;
  a->as = assoc__strdup(is_multi(a->kind) ? a->plural : a->singular);
  return a->as ? ASSOC_OK : ASSOC_NOMEM;
}

/* --------------------------------------------------------- key columns */

/* One foreign-key column to add to (or complete on) a model.  key_apply
** makes the change and key_undo reverses it, so that an error later in
** define leaves every model as it was. */
typedef struct key_plan {
  assoc_model *m;            /* the model carrying the column */
  const char *name;          /* attribute name (owned by the association) */
  const assoc_model *ref;    /* REFERENCES ref.table(ref_attr's column) */
  int ref_attr;
  int not_null;
  const char *on_delete, *on_update;
  int constraints;
  /* filled while applying */
  int idx;                   /* the attribute's index */
  int added;                 /* the attribute was made here */
  int completed;             /* references were added to an existing one */
  int was_not_null;
} key_plan;

/* Add or complete the column of plan.  Undo with key_undo. */
static int key_apply(assoc_db *db, assoc_association *a, key_plan *k) {
  assoc_attr *at;
  int idx = assoc_model_attr_index(k->m, k->name);
  k->added = k->completed = 0;
  if (idx < 0) {
    assoc_attr_def d;
    const assoc_attr_def *kd = &k->ref->attrs[k->ref_attr].def;
    memset(&d, 0, sizeof d);
    d.name = k->name;
    d.type = kd->type;
    d.length = kd->length;
    d.not_null = k->not_null;
    idx = assoc__model_add_attr(k->m, &d);
    if (idx < 0) return db->errcode;
    k->added = 1;
  }
  k->idx = idx;
  at = &k->m->attrs[idx];
  k->was_not_null = at->def.not_null;
  if (k->not_null) at->def.not_null = 1;
  if (k->constraints && !at->references_table) {
    at->references_table = assoc__strdup(k->ref->table);
    at->references_column =
        assoc__strdup(assoc__attr_field(k->ref, k->ref_attr));
    at->on_delete = assoc__strdup(k->on_delete);
    at->on_update = assoc__strdup(k->on_update);
    k->completed = 1;
    if (!at->references_table || !at->references_column || !at->on_delete ||
        !at->on_update)
      return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  if (!at->fk_of) at->fk_of = a;
  return ASSOC_OK;
}

static void key_undo(key_plan *k, const assoc_association *a) {
  assoc_attr *at;
  if (k->idx < 0) return;
  if (k->added) {
    assoc__model_remove_attr(k->m, k->idx);
    k->idx = -1;
    return;
  }
  at = &k->m->attrs[k->idx];
  if (k->completed) {
    assoc__free(at->references_table);
    assoc__free(at->references_column);
    assoc__free(at->on_delete);
    assoc__free(at->on_update);
    at->references_table = at->references_column = NULL;
    at->on_delete = at->on_update = NULL;
  }
  at->def.not_null = k->was_not_null;
  if (at->fk_of == a) at->fk_of = NULL;
  k->idx = -1;
}

/* ---------------------------------------------------------- join models */

/* Sequelize removes the id it generated itself; assoc_model_define puts
** that one first as "id" INTEGER auto-increment, which is how it is told
** from a key the user declared (internal.h has no flag for it). */
static int implicit_id(const assoc_model *m) {
  const assoc_attr_def *d;
  if (m->pk != 0 || m->pk_pair[0] >= 0) return 0;
  d = &m->attrs[0].def;
  return strcmp(d->name, "id") == 0 && strcmp(d->field, "id") == 0 &&
         d->type == ASSOC_TYPE_INTEGER && d->auto_increment &&
         d->primary_key && !m->attrs[0].references_table;
}

static void shift(int *idx, int removed) {
  if (*idx == removed) *idx = -1;
  else if (*idx > removed) (*idx)--;
}

/* The association's indexes into its through model. */
static void shift_through(assoc_association *x, int removed) {
  size_t k;
  shift(&x->fk_attr, removed);
  shift(&x->other_attr, removed);
  for (k = 0; k < x->nthrough_scope; k++)
    shift(&x->through_scope_attrs[k], removed);
}

/* Attribute `removed` of m is going away: fix every association's index
** into m (assoc__model_remove_attr fixes the model's own). */
static void shift_assoc_indexes(assoc_db *db, const assoc_model *m,
                                int removed) {
  size_t i, j, k;
  for (i = 0; i < db->nmodels; i++) {
    for (j = 0; j < db->models[i]->nassocs; j++) {
      assoc_association *x = db->models[i]->assocs[j];
      if (x->source == m) {
        shift(&x->source_key_attr, removed);
        if (x->kind == ASSOC_BELONGS_TO) shift(&x->fk_attr, removed);
      }
      if (x->target == m) {
        shift(&x->target_key_attr, removed);
        if (x->kind == ASSOC_HAS_MANY || x->kind == ASSOC_HAS_ONE)
          shift(&x->fk_attr, removed);
        for (k = 0; k < x->nscope; k++) shift(&x->scope_attrs[k], removed);
      }
      if (x->through == m) shift_through(x, removed);
    }
  }
}

/* Free a join model made by this call (mirrors model.c's destructor, which
** is static there) and take it off the database. */
static void drop_model(assoc_db *db, assoc_model *m) {
  size_t i;
  for (i = 0; i < db->nmodels; i++) {
    if (db->models[i] == m) {
      memmove(&db->models[i], &db->models[i + 1],
              (db->nmodels - i - 1) * sizeof *db->models);
      db->nmodels--;
      break;
    }
  }
  while (m->nattrs > 0) assoc__model_remove_attr(m, (int)m->nattrs - 1);
  assoc__free(m->attrs);
  assoc__free(m->assocs);
  assoc__free(m->name);
  assoc__free(m->singular);
  assoc__free(m->plural);
  assoc__free(m->table);
  assoc__free(m);
}

/* The belongsToMany on the target that this one pairs with (SEMANTICS 2.3):
** the reverse direction over the same through model. */
static assoc_association *find_paired(const assoc_association *a) {
  size_t i;
  for (i = 0; i < a->target->nassocs; i++) {
    assoc_association *x = a->target->assocs[i];
    if (x->kind == ASSOC_BELONGS_TO_MANY && x->target == a->source &&
        x->through == a->through && x != a)
      return x;
  }
  return NULL;
}

/* The otherKey x would have had by default, to tell whether it was given. */
static char *default_other_key(const assoc_association *x) {
  const char *base = x->source == x->target ? x->singular
                                            : x->target->singular;
  return key_name(base, x->target->attrs[x->target_key_attr].def.name);
}

/* ------------------------------------------------------------ define */

static void invalidate_sql(assoc_db *db) {
  size_t i, j, k;
  for (i = 0; i < db->nmodels; i++) {
    for (j = 0; j < db->models[i]->nassocs; j++) {
      assoc_association *x = db->models[i]->assocs[j];
      for (k = 0; k < sizeof x->sql / sizeof x->sql[0]; k++) {
        assoc__free(x->sql[k]);
        x->sql[k] = NULL;
      }
    }
  }
}

/* A scope's attributes resolved over m, with each value converted once to
** its attribute's type (text bytes copied), so accessors bind them as they
** are.  what names the scope in messages ("scope", "through scope"); check,
** when given, may refuse an attribute (setting the error). */
typedef struct scope_copy {
  int **attrs;
  assoc_value **values;
  char ***text;
  size_t *n;
} scope_copy;

typedef int (*scope_check)(assoc_db *db, const assoc_association *a,
                           int attr);

static int copy_pairs(assoc_db *db, const assoc_association *a,
                      const assoc_model *m, const char *what,
                      const char *const *names, const assoc_value *values,
                      size_t n, scope_check check, const scope_copy *out) {
  size_t i;
  assoc_params tmp;
  int rc = ASSOC_OK;
  if (n == 0) return ASSOC_OK;
  if (!names || !values)
    return assoc__error(db, ASSOC_MISUSE, "%s attributes expected", what);
  *out->attrs = assoc__malloc(n * sizeof **out->attrs);
  *out->values = assoc__malloc(n * sizeof **out->values);
  *out->text = assoc__malloc(n * sizeof **out->text);
  if (!*out->attrs || !*out->values || !*out->text)
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  for (i = 0; i < n; i++) (*out->text)[i] = NULL;
  *out->n = n;
  assoc__params_init(&tmp);
  for (i = 0; i < n && rc == ASSOC_OK; i++) {
    int attr = assoc_model_attr_index(m, names[i]);
    assoc_value v;
    if (attr < 0) {
      rc = assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' of %s in "
                        "the %s of %s.%s", names[i] ? names[i] : "(null)",
                        m->name, what, a->source->name, a->as);
      break;
    }
    if (check && (rc = check(db, a, attr)) != ASSOC_OK) break;
    (*out->attrs)[i] = attr;
    assoc__params_reset(&tmp);
    rc = assoc__push_attr_value(db, &tmp, m, attr, &values[i]);
    if (rc) break;
    v = tmp.v[0];
    if (v.kind == ASSOC_TEXT || v.kind == ASSOC_BLOB) {
      char *t = assoc__malloc(v.u.s.n + 1);
      if (!t) {
        rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
        break;
      }
      if (v.u.s.n) memcpy(t, v.u.s.p, v.u.s.n);
      t[v.u.s.n] = '\0';
      (*out->text)[i] = t;
      v.u.s.p = t;
    }
    (*out->values)[i] = v;
  }
  assoc__params_free(&tmp);
  return rc;
}

static int copy_scope(assoc_db *db, assoc_association *a,
                      const assoc_association_opts *o) {
  scope_copy out;
  out.attrs = &a->scope_attrs;
  out.values = &a->scope_values;
  out.text = &a->scope_text;
  out.n = &a->nscope;
  return copy_pairs(db, a, a->target, "scope", o->scope_attrs,
                    o->scope_values, o->nscope, NULL, &out);
}

/* A through scope names attributes of the join row the user owns: the
** keys (this association's or another's over the same model), the join
** model's own primary key and its timestamps are written by assoc. */
static int through_scope_attr(assoc_db *db, const assoc_association *a,
                              int attr) {
  const assoc_model *j = a->through;
  const char *name = j->attrs[attr].def.name;
  const assoc_association *key_of = j->attrs[attr].fk_of;
  if ((key_of && key_of->kind == ASSOC_BELONGS_TO_MANY &&
       key_of->through == j) || strcmp(name, a->foreign_key) == 0 ||
      strcmp(name, a->other_key) == 0)
    return assoc__error(db, ASSOC_MISUSE, "'%s' is a join key of %s and "
                        "cannot be in the through scope of %s.%s", name,
                        j->name, a->source->name, a->as);
  if (attr == j->pk || attr == j->created_at || attr == j->updated_at)
    return assoc__error(db, ASSOC_MISUSE, "'%s' of %s is written by assoc "
                        "and cannot be in the through scope of %s.%s", name,
                        j->name, a->source->name, a->as);
  return ASSOC_OK;
}

/* Called once the through model and both key names are known, before any
** model changes.  A join model that define makes for a table name has
** only the keys and timestamps, none of which a through scope may name. */
static int copy_through_scope(assoc_db *db, assoc_association *a,
                              const assoc_association_opts *o) {
  const char *const *names = o->through_scope_attrs;
  scope_copy out;
  size_t i;
  if (o->nthrough_scope == 0) return ASSOC_OK;
  if (a->kind != ASSOC_BELONGS_TO_MANY)
    return assoc__error(db, ASSOC_MISUSE, "%s.%s: a through scope is only "
                        "for belongsToMany", a->source->name, a->as);
  for (i = 0; names && i < o->nthrough_scope; i++) {
    if (names[i] && (strcmp(names[i], a->foreign_key) == 0 ||
                     strcmp(names[i], a->other_key) == 0))
      return assoc__error(db, ASSOC_MISUSE, "'%s' is a join key of %s and "
                          "cannot be in the through scope of %s.%s",
                          names[i], a->through ? a->through->name
                          : o->through_table, a->source->name, a->as);
    if (!a->through)
      return assoc__error(db, ASSOC_MISUSE, "unknown attribute '%s' of %s in "
                          "the through scope of %s.%s (a join model made "
                          "for a table name has only its keys and "
                          "timestamps)", names[i] ? names[i] : "(null)",
                          o->through_table, a->source->name, a->as);
  }
  out.attrs = &a->through_scope_attrs;
  out.values = &a->through_scope_values;
  out.text = &a->through_scope_text;
  out.n = &a->nthrough_scope;
  return copy_pairs(db, a, a->through, "through scope", names,
                    o->through_scope_values, o->nthrough_scope,
                    through_scope_attr, &out);
}

/* The attribute named by a sourceKey/targetKey option, or m's primary key
** when the option is not given. */
static int key_attr(assoc_db *db, const assoc_model *m, const char *name,
                    const char *what, int *out) {
  *out = name ? assoc_model_attr_index(m, name) : m->pk;
  if (*out >= 0) return ASSOC_OK;
  if (name)
    return assoc__error(db, ASSOC_MISUSE, "Unknown attribute \"%s\" passed "
                        "as %s, define this attribute on model \"%s\" "
                        "first", name, what, m->name);
  return assoc__error(db, ASSOC_MISUSE, "%s has no single-column primary "
                      "key", m->name);
}

/* Resolve sourceKey/targetKey and the key names (SEMANTICS 2.3). */
static int plan_keys(assoc_db *db, assoc_association *a,
                     const assoc_association_opts *o) {
  assoc_model *s = a->source, *t = a->target;
  const char *spk = s->pk >= 0 ? s->attrs[s->pk].def.name : NULL;
  const char *tpk = t->pk >= 0 ? t->attrs[t->pk].def.name : NULL;
  char *base = NULL;
  int rc;
  if (a->kind == ASSOC_BELONGS_TO) {
    /* set and create name the source row by its primary key. */
    a->source_key_attr = s->pk;
    rc = key_attr(db, t, o->target_key, "targetKey", &a->target_key_attr);
  } else {
    rc = key_attr(db, s, o->source_key, "sourceKey", &a->source_key_attr);
    if (a->kind != ASSOC_BELONGS_TO_MANY)
      a->target_key_attr = t->pk;   /* hasMany/hasOne take target pks */
    else if (!rc)
      rc = key_attr(db, t, o->target_key, "targetKey", &a->target_key_attr);
  }
  if (rc) return rc;
  if (!spk) spk = s->attrs[a->source_key_attr].def.name;
  if (!tpk) tpk = t->attrs[a->target_key_attr].def.name;

  if (o->foreign_key) {
    a->foreign_key = assoc__strdup(o->foreign_key);
  } else {
    switch (a->kind) {
    case ASSOC_HAS_MANY:
      a->foreign_key = key_name(s->singular, spk);
      break;
    case ASSOC_HAS_ONE:
      /* Sequelize 6 names it after the alias when there is one. */
      if (o->as) base = assoc__singularize(o->as);
      else if (o->as_singular) base = assoc__strdup(o->as_singular);
      else base = assoc__singularize(s->name);
      if (!base) return assoc__error(db, ASSOC_NOMEM, "out of memory");
      a->foreign_key = key_name(base, spk);
      assoc__free(base);
      break;
    case ASSOC_BELONGS_TO:
      a->foreign_key = key_name(a->as, tpk);
      break;
    case ASSOC_BELONGS_TO_MANY:
      a->foreign_key =
          key_name(s->singular, s->attrs[a->source_key_attr].def.name);
      break;
    }
  }
  if (!a->foreign_key) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (a->kind == ASSOC_BELONGS_TO_MANY && o->other_key) {
    a->other_key = assoc__strdup(o->other_key);
    if (!a->other_key) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  return ASSOC_OK;
}

/* What define builds before it changes any model. */
typedef struct define_state {
  key_plan keys[2];
  size_t nkeys;
  assoc_model *made;          /* join model made for a through table */
  assoc_association *paired;
  char *paired_name;          /* renamed otherKey of the paired side: */
  char *paired_field;         /*   attribute name, column, and the */
  char *paired_key;           /*   association's copy */
} define_state;

static void plan_fk(assoc_association *a, const assoc_association_opts *o,
                    define_state *st) {
  key_plan *k = &st->keys[st->nkeys++];
  int nn = o->foreign_key_not_null;
  memset(k, 0, sizeof *k);
  k->idx = -1;
  k->name = a->foreign_key;
  k->not_null = nn;
  k->constraints = !o->no_constraints;
  if (a->kind == ASSOC_BELONGS_TO) {
    k->m = a->source;
    k->ref = a->target;
    k->ref_attr = a->target_key_attr;
    k->on_delete = nn ? "NO ACTION" : "SET NULL";
  } else {
    k->m = a->target;
    k->ref = a->source;
    k->ref_attr = a->source_key_attr;
    k->on_delete = nn ? "CASCADE" : "SET NULL";
  }
  k->on_update = "CASCADE";
  if (o->on_delete) k->on_delete = o->on_delete;
  if (o->on_update) k->on_update = o->on_update;
}

static void plan_btm_key(assoc_association *a, const assoc_association_opts *o,
                         define_state *st, const char *name,
                         const assoc_model *ref, int ref_attr) {
  key_plan *k = &st->keys[st->nkeys++];
  memset(k, 0, sizeof *k);
  k->idx = -1;
  k->m = a->through;
  k->name = name;
  k->ref = ref;
  k->ref_attr = ref_attr;
  k->not_null = 1;
  k->constraints = !o->no_constraints;
  k->on_delete = o->on_delete ? o->on_delete : "CASCADE";
  k->on_update = o->on_update ? o->on_update : "CASCADE";
}

/* Find or plan the through model, the other key, and pairing. */
static int plan_through(assoc_db *db, assoc_association *a,
                        const assoc_association_opts *o, define_state *st) {
  char *dflt;
  if (o->through) {
    a->through = o->through;
  } else {
    a->through = assoc_db_model(db, o->through_table);
  }
  if (a->through && (a->through == a->source || a->through == a->target))
    return assoc__error(db, ASSOC_MISUSE, "%s.belongsToMany(%s): the through "
                        "model must be a third model", a->source->name,
                        a->target->name);
  if (a->through) st->paired = find_paired(a);
  if (!a->other_key) {
    if (st->paired) {
      a->other_key = assoc__strdup(st->paired->foreign_key);
    } else {
      a->other_key = default_other_key(a);
    }
    if (!a->other_key) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  if (strcmp(a->other_key, a->foreign_key) == 0)
    return assoc__error(db, ASSOC_MISUSE, "%s.belongsToMany(%s): foreignKey "
                        "and otherKey are both '%s'", a->source->name,
                        a->target->name, a->foreign_key);
  /* A paired side whose otherKey was a default takes this side's
  ** foreignKey instead, so the table has exactly the two keys. */
  if (st->paired && st->paired->other_attr >= 0 &&
      strcmp(st->paired->other_key, a->foreign_key) != 0 &&
      assoc_model_attr_index(a->through, a->foreign_key) < 0 &&
      a->through->attrs[st->paired->other_attr].fk_of == st->paired) {
    dflt = default_other_key(st->paired);
    if (!dflt) return assoc__error(db, ASSOC_NOMEM, "out of memory");
    if (strcmp(dflt, st->paired->other_key) == 0) {
      st->paired_name = assoc__strdup(a->foreign_key);
      st->paired_field = a->through->underscored
                             ? assoc__underscore(a->foreign_key)
                             : assoc__strdup(a->foreign_key);
      st->paired_key = assoc__strdup(a->foreign_key);
      if (!st->paired_name || !st->paired_field || !st->paired_key) {
        assoc__free(dflt);
        return assoc__error(db, ASSOC_NOMEM, "out of memory");
      }
    }
    assoc__free(dflt);
  }
  return ASSOC_OK;
}

static int make_join_model(assoc_db *db, assoc_association *a,
                           const assoc_association_opts *o,
                           define_state *st) {
  assoc_model_opts mo;
  int rc;
  memset(&mo, 0, sizeof mo);
  mo.table_name = o->through_table;
  mo.no_timestamps = o->through_no_timestamps;
  mo.underscored = a->source->underscored;
  rc = assoc_model_define(db, o->through_table, NULL, 0, &mo, &st->made);
  if (rc) return rc;
  st->made->is_join = 1;
  a->through = st->made;
  return ASSOC_OK;
}

static void rename_paired(define_state *st, assoc_model *through) {
  assoc_attr *at = &through->attrs[st->paired->other_attr];
  assoc__free((char *)at->def.name);
  assoc__free((char *)at->def.field);
  at->def.name = st->paired_name;
  at->def.field = st->paired_field;
  assoc__free(st->paired->other_key);
  st->paired->other_key = st->paired_key;
  st->paired_name = st->paired_field = st->paired_key = NULL;
}

/* An onDelete/onUpdate CREATE TABLE would not write (schema.c's list). */
static int bad_action(const char *action) {
  return action && !assoc__valid_action(action);
}

int assoc_association_define(assoc_model *source, assoc_assoc_kind kind,
                             assoc_model *target,
                             const assoc_association_opts *opts,
                             assoc_association **out) {
  assoc_association_opts none;
  assoc_association *a;
  assoc_db *db;
  define_state st;
  size_t i;
  int rc;

  if (out) *out = NULL;
  if (!source) return ASSOC_MISUSE;
  db = source->db;
  rc = assoc__check_open(db);
  if (rc) return rc;
  if (!opts) {
    memset(&none, 0, sizeof none);
    opts = &none;
  }
  if ((opts->as && !*opts->as) || (opts->as_singular && !*opts->as_singular)
      || (opts->as_plural && !*opts->as_plural))
    return assoc__error(db, ASSOC_MISUSE, "%s.%s: 'as' must not be empty",
                        source->name, method_name(kind));
  if (kind < ASSOC_HAS_MANY || kind > ASSOC_BELONGS_TO_MANY)
    return assoc__error(db, ASSOC_MISUSE, "unknown association kind %d",
                        (int)kind);
  if (!target || target->db != db)
    return assoc__error(db, ASSOC_MISUSE, "%s.%s called with something "
                        "that's not a model of this database", source->name,
                        method_name(kind));
  if (bad_action(opts->on_delete) || bad_action(opts->on_update))
    return assoc__error(db, ASSOC_MISUSE, "unknown referential action '%s' "
                        "(CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO "
                        "ACTION expected)", bad_action(opts->on_delete)
                        ? opts->on_delete : opts->on_update);
  if (kind == ASSOC_BELONGS_TO_MANY) {
    if (opts->through ? opts->through->db != db
                      : !opts->through_table || !*opts->through_table)
      return assoc__error(db, ASSOC_MISUSE, "%s.belongsToMany(%s) requires "
                          "through option, pass either a string or a model",
                          source->name, target->name);
    if (source == target && !opts->as && !opts->as_plural &&
        !opts->as_singular)
      return assoc__error(db, ASSOC_MISUSE, "'as' must be defined for "
                          "many-to-many self-associations");
  }

  a = assoc__malloc(sizeof *a);
  if (!a) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  memset(a, 0, sizeof *a);
  memset(&st, 0, sizeof st);
  a->kind = kind;
  a->source = source;
  a->target = target;
  a->fk_attr = a->other_attr = a->source_key_attr = a->target_key_attr = -1;

  rc = set_names(a, opts);
  if (rc) {
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    goto fail;
  }
  if (opts->as || opts->as_plural || opts->as_singular) {
    for (i = 0; i < source->nassocs; i++) {
      if (strcmp(source->assocs[i]->as, a->as) == 0) {
        rc = assoc__error(db, ASSOC_MISUSE, "You have used the alias %s in "
                          "two separate associations. Aliased associations "
                          "must have unique aliases.", a->as);
        goto fail;
      }
    }
  }
  if (assoc_model_attr_index(source, a->as) >= 0) {
    rc = assoc__error(db, ASSOC_MISUSE, "Naming collision between attribute "
                      "'%s' and association '%s' on model %s. To remedy "
                      "this, change either foreignKey or as in your "
                      "association definition", a->as, a->as, source->name);
    goto fail;
  }
  rc = plan_keys(db, a, opts);
  if (rc) goto fail;
  /* A key column added to the source must not take the association's name. */
  if ((kind == ASSOC_BELONGS_TO || (source == target &&
                                    kind != ASSOC_BELONGS_TO_MANY)) &&
      strcmp(a->foreign_key, a->as) == 0) {
    rc = assoc__error(db, ASSOC_MISUSE, "Naming collision between attribute "
                      "'%s' and association '%s' on model %s. To remedy "
                      "this, change either foreignKey or as in your "
                      "association definition", a->as, a->as, source->name);
    goto fail;
  }
  if (kind == ASSOC_BELONGS_TO_MANY) {
    rc = plan_through(db, a, opts, &st);
    if (rc) goto fail;
  }
  rc = copy_scope(db, a, opts);
  if (!rc) rc = copy_through_scope(db, a, opts);
  if (rc) goto fail;
  rc = set_accessors(a);
  if (rc) {
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
    goto fail;
  }
  /* Room for the association, so registering it at the end cannot fail. */
  if (source->nassocs == source->capassocs) {
    size_t cap = source->capassocs ? source->capassocs * 2 : 4;
    assoc_association **na =
        assoc__realloc(source->assocs, cap * sizeof *na);
    if (!na) {
      rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
      goto fail;
    }
    source->assocs = na;
    source->capassocs = cap;
  }

  /* ---- from here on models change; `fail` undoes every change ---- */
  if (kind == ASSOC_BELONGS_TO_MANY) {
    if (!a->through) {
      rc = make_join_model(db, a, opts, &st);
      if (rc) goto fail;
    }
    if (!st.paired_name)
      plan_btm_key(a, opts, &st, a->foreign_key, source,
                   a->source_key_attr);
    plan_btm_key(a, opts, &st, a->other_key, target, a->target_key_attr);
  } else {
    plan_fk(a, opts, &st);
  }
  for (i = 0; i < st.nkeys; i++) {
    rc = key_apply(db, a, &st.keys[i]);
    if (rc) goto fail;
  }

  /* ---- nothing below can fail ---- */
  if (kind == ASSOC_BELONGS_TO_MANY) {
    assoc_model *j = a->through;
    if (st.paired_name) rename_paired(&st, j);
    if (implicit_id(j)) {
      shift_assoc_indexes(db, j, 0);
      shift_through(a, 0);        /* a is not registered yet */
      assoc__model_remove_attr(j, 0);
    }
    a->fk_attr = assoc_model_attr_index(j, a->foreign_key);
    a->other_attr = assoc_model_attr_index(j, a->other_key);
    if (j->pk < 0 && j->pk_pair[0] < 0) {
      j->pk_pair[0] = a->fk_attr;
      j->pk_pair[1] = a->other_attr;
    } else if (j->pk >= 0) {
      /* Its own key stays; the pair gets UNIQUE (the latest side's order,
      ** as in Sequelize). */
      j->unique_pair[0] = a->fk_attr;
      j->unique_pair[1] = a->other_attr;
    }
  } else {
    a->fk_attr = st.keys[0].idx;
  }
  source->assocs[source->nassocs++] = a;
  invalidate_sql(db);
  if (out) *out = a;
  return ASSOC_OK;

fail:
  while (st.nkeys > 0) key_undo(&st.keys[--st.nkeys], a);
  if (st.made) drop_model(db, st.made);
  assoc__free(st.paired_name);
  assoc__free(st.paired_field);
  assoc__free(st.paired_key);
  assoc__association_free(a);
  return rc;
}

/* ------------------------------------------------------------- getters */

assoc_assoc_kind assoc_association_kind(const assoc_association *a) {
  return a ? a->kind : (assoc_assoc_kind)0;
}

const char *assoc_association_type_name(const assoc_association *a) {
  if (!a) return NULL;
  switch (a->kind) {
  case ASSOC_HAS_MANY: return "HasMany";
  case ASSOC_BELONGS_TO: return "BelongsTo";
  case ASSOC_HAS_ONE: return "HasOne";
  case ASSOC_BELONGS_TO_MANY: return "BelongsToMany";
  }
  return NULL;
}

assoc_model *assoc_association_source(const assoc_association *a) {
  return a ? a->source : NULL;
}
assoc_model *assoc_association_target(const assoc_association *a) {
  return a ? a->target : NULL;
}
assoc_model *assoc_association_through(const assoc_association *a) {
  return a ? a->through : NULL;
}
const char *assoc_association_as(const assoc_association *a) {
  return a ? a->as : NULL;
}
const char *assoc_association_singular(const assoc_association *a) {
  return a ? a->singular : NULL;
}
const char *assoc_association_plural(const assoc_association *a) {
  return a ? a->plural : NULL;
}
const char *assoc_association_foreign_key(const assoc_association *a) {
  return a ? a->foreign_key : NULL;
}
const char *assoc_association_other_key(const assoc_association *a) {
  return a ? a->other_key : NULL;
}

const char *assoc_association_accessor(const assoc_association *a,
                                       assoc_accessor op) {
  if (!a || (int)op < 0 || op >= ASSOC_ACCESSOR_COUNT) return NULL;
  return a->accessors[op];
}

int assoc_association_source_attr(const assoc_association *a) {
  if (!a) return -1;
  return a->kind == ASSOC_BELONGS_TO ? a->fk_attr : a->source_key_attr;
}

int assoc_association_target_attr(const assoc_association *a) {
  return a ? a->target_key_attr : -1;
}

size_t assoc_model_association_count(const assoc_model *m) {
  return m ? m->nassocs : 0;
}

assoc_association *assoc_model_association_at(const assoc_model *m,
                                              size_t i) {
  return m && i < m->nassocs ? m->assocs[i] : NULL;
}

/* The newest wins: an unaliased association defined again replaces the
** earlier one, as in Sequelize (the earlier stays allocated, since a
** binding may still hold it). */
assoc_association *assoc_model_association(const assoc_model *m,
                                           const char *as) {
  size_t i;
  if (!m || !as) return NULL;
  for (i = m->nassocs; i-- > 0;)
    if (strcmp(m->assocs[i]->as, as) == 0) return m->assocs[i];
  return NULL;
}

/* ------------------------------------------------------- entry points */

static int enter(assoc_association *a, assoc_db **db) {
  if (!a) return ASSOC_MISUSE;
  *db = a->source->db;
  return assoc__check_open(*db);
}

static int unsaved(assoc_db *db, const assoc_association *a,
                   const assoc_value *key) {
  if (key && key->kind != ASSOC_NULL) return ASSOC_OK;
  return assoc__error(db, ASSOC_MISUSE, "%s instance is not saved",
                      a->source->name);
}

static int no_accessor(assoc_db *db, const assoc_association *a,
                       const char *op) {
  return assoc__error(db, ASSOC_MISUSE, "%s association %s.%s has no %s "
                      "accessor", assoc_association_type_name(a),
                      a->source->name, a->as, op);
}

static int check_keys(assoc_db *db, const assoc_value *keys, size_t n) {
  if (n > 0 && !keys)
    return assoc__error(db, ASSOC_MISUSE, "keys expected");
  return ASSOC_OK;
}

static int check_join(assoc_db *db, const assoc_association *a,
                      const assoc_field *join, size_t njoin) {
  if (njoin == 0) return ASSOC_OK;
  if (a->kind != ASSOC_BELONGS_TO_MANY)
    return assoc__error(db, ASSOC_MISUSE, "join attributes are only for "
                        "belongsToMany (%s.%s is a %s)", a->source->name,
                        a->as, assoc_association_type_name(a));
  if (!join) return assoc__error(db, ASSOC_MISUSE, "join attributes expected");
  return ASSOC_OK;
}

int assoc_association_get(assoc_association *a, const assoc_value *source_key,
                          const assoc_query *q, assoc_rows **out) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (out) *out = NULL;
  if (rc) return rc;
  if (a->kind == ASSOC_BELONGS_TO) {
    /* The key is the source's foreign key: NULL means no target. */
    if (!source_key || source_key->kind == ASSOC_NULL) {
      assoc__rows_reset(&db->rows);
      if (out) *out = &db->rows;
      return ASSOC_OK;
    }
    return assoc__belongs_to_get(a, source_key, q, out);
  }
  rc = unsaved(db, a, source_key);
  if (rc) return rc;
  switch (a->kind) {
  case ASSOC_HAS_MANY: return assoc__has_many_get(a, source_key, q, out);
  case ASSOC_HAS_ONE: return assoc__has_one_get(a, source_key, q, out);
  default: return assoc__btm_get(a, source_key, q, out);
  }
}

int assoc_association_count(assoc_association *a,
                            const assoc_value *source_key,
                            const assoc_query *q, int64_t *out) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (rc) return rc;
  if (!is_multi(a->kind)) return no_accessor(db, a, "count");
  if (!out) return assoc__error(db, ASSOC_MISUSE, "result pointer expected");
  rc = unsaved(db, a, source_key);
  if (rc) return rc;
  if (a->kind == ASSOC_HAS_MANY)
    return assoc__has_many_count(a, source_key, q, out);
  return assoc__btm_count(a, source_key, q, out);
}

int assoc_association_has(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n, int *out) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (rc) return rc;
  if (!is_multi(a->kind)) return no_accessor(db, a, "has");
  if (!out) return assoc__error(db, ASSOC_MISUSE, "result pointer expected");
  rc = unsaved(db, a, source_key);
  if (!rc) rc = check_keys(db, keys, n);
  if (rc) return rc;
  if (n == 0) {
    *out = 1;
    return ASSOC_OK;
  }
  if (a->kind == ASSOC_HAS_MANY)
    return assoc__has_many_has(a, source_key, keys, n, out);
  return assoc__btm_has(a, source_key, keys, n, out);
}

/* Each per-target join names one of the keys and is usable. */
static int check_each(assoc_db *db, const assoc_association *a, size_t n,
                      const assoc_target_join *each, size_t neach) {
  size_t i;
  int rc = ASSOC_OK;
  if (neach == 0) return ASSOC_OK;
  /* check_join's errors: not a belongsToMany, or no array given */
  if (a->kind != ASSOC_BELONGS_TO_MANY || !each)
    return check_join(db, a, NULL, 1);
  for (i = 0; i < neach && !rc; i++) {
    if (each[i].key >= n)
      return assoc__error(db, ASSOC_MISUSE, "target index %zu out of range "
                          "(%zu keys)", each[i].key, n);
    rc = check_join(db, a, each[i].join, each[i].njoin);
  }
  return rc;
}

int assoc_association_add_each(assoc_association *a,
                               const assoc_value *source_key,
                               const assoc_value *keys, size_t n,
                               const assoc_field *join, size_t njoin,
                               const assoc_target_join *each, size_t neach) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (rc) return rc;
  if (!is_multi(a->kind)) return no_accessor(db, a, "add");
  rc = unsaved(db, a, source_key);
  if (!rc) rc = check_keys(db, keys, n);
  if (!rc) rc = check_join(db, a, join, njoin);
  if (!rc) rc = check_each(db, a, n, each, neach);
  if (rc) return rc;
  if (a->kind == ASSOC_HAS_MANY)
    return assoc__has_many_add(a, source_key, keys, n);
  return assoc__btm_add(a, source_key, keys, n, join, njoin, each, neach);
}

int assoc_association_add(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n,
                          const assoc_field *join, size_t njoin) {
  return assoc_association_add_each(a, source_key, keys, n, join, njoin,
                                    NULL, 0);
}

int assoc_association_set_each(assoc_association *a,
                               const assoc_value *source_key,
                               const assoc_value *keys, size_t n,
                               const assoc_field *join, size_t njoin,
                               const assoc_target_join *each, size_t neach) {
  assoc_db *db;
  const assoc_value *key;
  int rc = enter(a, &db);
  if (rc) return rc;
  rc = unsaved(db, a, source_key);
  if (!rc) rc = check_keys(db, keys, n);
  if (!rc) rc = check_join(db, a, join, njoin);
  if (!rc) rc = check_each(db, a, n, each, neach);
  if (rc) return rc;
  switch (a->kind) {
  case ASSOC_HAS_MANY:
    return assoc__has_many_set(a, source_key, keys, n);
  case ASSOC_BELONGS_TO_MANY:
    return assoc__btm_set(a, source_key, keys, n, join, njoin, each, neach);
  default:
    break;
  }
  if (n > 1)
    return assoc__error(db, ASSOC_MISUSE, "%s.%s takes one target, %zu "
                        "given", a->source->name, a->accessors[ASSOC_ACC_SET],
                        n);
  key = n == 1 && keys[0].kind != ASSOC_NULL ? &keys[0] : NULL;
  if (a->kind == ASSOC_BELONGS_TO)
    return assoc__belongs_to_set(a, source_key, key);
  return assoc__has_one_set(a, source_key, key);
}

int assoc_association_set(assoc_association *a, const assoc_value *source_key,
                          const assoc_value *keys, size_t n,
                          const assoc_field *join, size_t njoin) {
  return assoc_association_set_each(a, source_key, keys, n, join, njoin,
                                    NULL, 0);
}

int assoc_association_remove(assoc_association *a,
                             const assoc_value *source_key,
                             const assoc_value *keys, size_t n) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (rc) return rc;
  if (!is_multi(a->kind)) return no_accessor(db, a, "remove");
  rc = unsaved(db, a, source_key);
  if (!rc) rc = check_keys(db, keys, n);
  if (rc) return rc;
  if (a->kind == ASSOC_HAS_MANY)
    return assoc__has_many_remove(a, source_key, keys, n);
  return assoc__btm_remove(a, source_key, keys, n);
}

int assoc_association_create(assoc_association *a,
                             const assoc_value *source_key,
                             const assoc_field *values, size_t n,
                             const assoc_field *join, size_t njoin,
                             assoc_rows **out) {
  assoc_db *db;
  int rc = enter(a, &db);
  if (out) *out = NULL;
  if (rc) return rc;
  rc = unsaved(db, a, source_key);
  if (!rc && n > 0 && !values)
    rc = assoc__error(db, ASSOC_MISUSE, "values expected");
  if (!rc) rc = check_join(db, a, join, njoin);
  if (rc) return rc;
  switch (a->kind) {
  case ASSOC_HAS_MANY:
    return assoc__has_many_create(a, source_key, values, n, out);
  case ASSOC_BELONGS_TO:
    return assoc__belongs_to_create(a, source_key, values, n, out);
  case ASSOC_HAS_ONE:
    return assoc__has_one_create(a, source_key, values, n, out);
  default:
    return assoc__btm_create(a, source_key, values, n, join, njoin, out);
  }
}

/* ------------------------------------------------ helpers of the kinds */

const char *assoc__assoc_sql(assoc_association *a, int slot,
                             assoc__assoc_gen gen) {
  assoc_db *db = a->source->db;
  assoc_buf b;
  int rc;
  if (a->sql[slot]) return a->sql[slot];
  assoc__buf_init(&b);
  rc = gen(a, &b);
  if (rc == ASSOC_OK && b.oom)
    rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  if (rc == ASSOC_OK) {
    a->sql[slot] = assoc__buf_take(&b);
    if (!a->sql[slot]) assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  assoc__buf_free(&b);
  return a->sql[slot];
}

int assoc__assoc_plain(const assoc_query *q) {
  return !q || (!q->where && !q->attributes && q->norder == 0 &&
                q->limit == 0 && q->offset == 0 && !q->through_where &&
                !q->join_attributes_set && q->nexists == 0);
}

void assoc__scope_where(assoc_db *db, assoc_buf *b, const assoc_model *m,
                        const char *alias, const int *attrs,
                        const assoc_value *values, size_t n, size_t *ph) {
  size_t i;
  for (i = 0; i < n; i++) {
    assoc__buf_puts(b, " AND ");
    assoc__buf_column(b, alias, assoc__attr_field(m, attrs[i]));
    if (values[i].kind == ASSOC_NULL) {
      assoc__buf_puts(b, " IS NULL");
    } else {
      assoc__buf_puts(b, " = ");
      assoc__placeholder(db, b, ++*ph);
    }
  }
}

void assoc__scope_params(assoc_params *p, const assoc_value *values,
                         size_t n, int with_nulls) {
  size_t i;
  for (i = 0; i < n; i++)
    if (with_nulls || values[i].kind != ASSOC_NULL)
      assoc__params_push(p, &values[i]);
}

void assoc__assoc_scope_where(assoc_association *a, assoc_buf *b,
                              const char *alias, size_t *ph) {
  assoc__scope_where(a->source->db, b, a->target, alias, a->scope_attrs,
                     a->scope_values, a->nscope, ph);
}

void assoc__assoc_scope_set(assoc_association *a, assoc_buf *b, size_t *ph) {
  size_t i;
  for (i = 0; i < a->nscope; i++) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(a->target, a->scope_attrs[i]));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(a->source->db, b, ++*ph);
  }
}

void assoc__assoc_scope_params(assoc_association *a, assoc_params *p,
                               int with_nulls) {
  assoc__scope_params(p, a->scope_values, a->nscope, with_nulls);
}

int assoc__assoc_push_now(assoc_db *db, assoc_params *p,
                          const assoc_model *m, int attr) {
  char now[32];
  assoc_value v;
  assoc__now_iso(now);
  v.kind = ASSOC_TEXT;
  v.u.s.p = now;
  v.u.s.n = strlen(now);
  /* Copied: the params outlive this frame. */
  assoc__params_push_text_copy(p, v.u.s.p, v.u.s.n);
  (void)m;
  (void)attr;
  return p->oom ? assoc__error(db, ASSOC_NOMEM, "out of memory") : ASSOC_OK;
}

int assoc__assoc_run(assoc_db *db, const char *sql, assoc_params *p) {
  return assoc__assoc_run_changes(db, sql, p, NULL);
}

int assoc__assoc_run_changes(assoc_db *db, const char *sql, assoc_params *p,
                             int64_t *changes) {
  int rc;
  if (p->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = assoc__exec(db, sql, p->v, p->n, NULL);
  if (!rc && changes) *changes = db->rows.changes;
  assoc__rows_reset(&db->rows);
  return rc;
}

int assoc__assoc_scalars(assoc_db *db, const char *sql, assoc_params *p,
                         int64_t *out, size_t n) {
  size_t i;
  int rc;
  if (p->oom) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  rc = assoc__exec(db, sql, p->v, p->n, NULL);
  if (rc) return rc;
  rc = assoc_rows_step(&db->rows);
  if (rc == ASSOC_ROW) {
    rc = ASSOC_OK;
    for (i = 0; i < n && rc == ASSOC_OK; i++) {
      assoc_value v;
      rc = assoc_rows_value(&db->rows, i, &v);
      out[i] = v.kind == ASSOC_INT ? v.u.i
               : v.kind == ASSOC_REAL ? (int64_t)v.u.r : 0;
    }
  } else if (rc == ASSOC_DONE) {
    rc = assoc__error(db, ASSOC_ERROR, "no result row");
  }
  assoc__rows_reset(&db->rows);
  return rc;
}

void assoc__assoc_columns(assoc_db *db, assoc_buf *b, const assoc_model *m,
                          const char *alias) {
  size_t i;
  (void)db;
  for (i = 0; i < m->nattrs; i++) {
    if (i) assoc__buf_puts(b, ", ");
    assoc__buf_column(b, alias, assoc__attr_field(m, (int)i));
  }
}

int assoc__assoc_map_all(assoc_db *db, size_t first, const assoc_model *m) {
  size_t i;
  for (i = 0; i < m->nattrs; i++) {
    int rc = assoc__rows_map(&db->rows, first + i, m, (int)i);
    if (rc) return rc;
  }
  return ASSOC_OK;
}

/* The value of attr in the row an INSERT just returned (db->rows, not
** yet stepped), copied into *hold (assoc__free it) when it is text. */
int assoc__assoc_inserted_value(assoc_db *db, const assoc_model *m,
                                int attr, assoc_value *out, char **hold) {
  size_t i, n;
  int rc;
  *hold = NULL;
  rc = assoc_rows_step(&db->rows);
  if (rc != ASSOC_ROW)
    return rc == ASSOC_DONE ? assoc__error(db, ASSOC_ERROR, "the INSERT into "
                                           "%s returned no row", m->table)
                            : rc;
  n = assoc_rows_column_count(&db->rows);
  for (i = 0; i < n; i++) {
    const assoc_model *cm;
    if (assoc_rows_column_attr(&db->rows, i, &cm) == attr && cm == m) {
      rc = assoc_rows_value(&db->rows, i, out);
      if (rc) return rc;
      if (out->kind == ASSOC_TEXT || out->kind == ASSOC_BLOB) {
        *hold = assoc__malloc(out->u.s.n + 1);
        if (!*hold) return assoc__error(db, ASSOC_NOMEM, "out of memory");
        if (out->u.s.n) memcpy(*hold, out->u.s.p, out->u.s.n);
        (*hold)[out->u.s.n] = '\0';
        out->u.s.p = *hold;
      }
      return ASSOC_OK;
    }
  }
  return assoc__error(db, ASSOC_ERROR, "the stored %s row lacks %s",
                      m->name, m->attrs[attr].def.name);
}

/* "SELECT <target> FROM target AS T WHERE T.targetKey = ?" */
static int gen_select_by_key(assoc_association *a, assoc_buf *b) {
  assoc_db *db = a->source->db;
  assoc_model *t = a->target;
  assoc__buf_puts(b, "SELECT ");
  assoc__assoc_columns(db, b, t, t->name);
  assoc__buf_puts(b, " FROM ");
  assoc__buf_table_as(b, t->table, t->name);
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_column(b, t->name, assoc__attr_field(t, a->target_key_attr));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(db, b, 1);
  return ASSOC_OK;
}

const char *assoc__assoc_select_sql(assoc_association *a, int slot) {
  return assoc__assoc_sql(a, slot, gen_select_by_key);
}

/* The target row whose target key is key, as the result of db->rows.  A
** key read back from a stored row (stored != 0) is bound as it is: the
** creates run this after their COMMIT, where nothing should be left to
** fail. */
int assoc__assoc_select_by(assoc_association *a, int slot,
                           const assoc_value *key, int stored,
                           assoc_rows **out) {
  assoc_db *db = a->source->db;
  assoc_params p;
  const char *sql = assoc__assoc_select_sql(a, slot);
  int rc = ASSOC_OK;
  if (!sql) return db->errcode;
  assoc__params_init(&p);
  if (!stored) {
    rc = assoc__push_attr_value(db, &p, a->target, a->target_key_attr, key);
    if (!rc && p.oom) rc = assoc__error(db, ASSOC_NOMEM, "out of memory");
  }
  if (!rc)
    rc = stored ? assoc__exec(db, sql, key, 1, NULL)
                : assoc__exec(db, sql, p.v, p.n, NULL);
  if (!rc) rc = assoc__assoc_map_all(db, 0, a->target);
  if (!rc && out) *out = &db->rows;
  assoc__params_free(&p);
  return rc;
}

/* INSERT a target with values, where forced (the foreign key, the scope)
** replace whatever values held for the same attributes. */
int assoc__assoc_insert(assoc_association *a, const assoc_field *values,
                        size_t n, const assoc_field *forced, size_t nforced,
                        assoc_rows **out) {
  assoc_db *db = a->source->db;
  assoc_field *f;
  size_t i, j, nf = 0;
  int rc;
  f = assoc__malloc((n + nforced + 1) * sizeof *f);
  if (!f) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    for (j = 0; j < nforced; j++)
      if (values[i].attr == forced[j].attr) break;
    if (j == nforced) f[nf++] = values[i];
  }
  for (j = 0; j < nforced; j++) f[nf++] = forced[j];
  rc = assoc_model_insert(a->target, f, nf, out);
  assoc__free(f);
  return rc;
}

int assoc__assoc_need_pk(assoc_association *a) {
  if (a->target_key_attr >= 0) return ASSOC_OK;
  return assoc__error(a->source->db, ASSOC_MISUSE, "%s has no single-column "
                      "primary key to name targets of %s.%s by",
                      a->target->name, a->source->name, a->as);
}

/* hasMany and hasOne (the key on the target):
** "UPDATE t SET fk = NULL, updatedAt = ? WHERE fk = ? AND <scope>" */
void assoc__assoc_unlink_head(assoc_association *a, assoc_buf *b,
                              size_t *ph) {
  assoc_model *t = a->target;
  assoc__buf_puts(b, "UPDATE ");
  assoc__buf_ident(b, t->table);
  assoc__buf_puts(b, " SET ");
  assoc__buf_ident(b, assoc__attr_field(t, a->fk_attr));
  assoc__buf_puts(b, " = NULL");
  if (t->updated_at >= 0) {
    assoc__buf_puts(b, ", ");
    assoc__buf_ident(b, assoc__attr_field(t, t->updated_at));
    assoc__buf_puts(b, " = ");
    assoc__placeholder(t->db, b, ++*ph);
  }
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_ident(b, assoc__attr_field(t, a->fk_attr));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(t->db, b, ++*ph);
  assoc__assoc_scope_where(a, b, NULL, ph);
}

int assoc__assoc_unlink_params(assoc_association *a, assoc_params *p,
                         const assoc_value *src) {
  assoc_db *db = a->source->db;
  int rc = ASSOC_OK;
  if (a->target->updated_at >= 0)
    rc = assoc__assoc_push_now(db, p, a->target, a->target->updated_at);
  if (!rc) rc = assoc__push_attr_value(db, p, a->target, a->fk_attr, src);
  if (rc) return rc;
  assoc__assoc_scope_params(a, p, 0);
  return ASSOC_OK;
}

/* hasMany and hasOne: " FROM t AS T WHERE T.fk = ? AND <scope>" */
void assoc__assoc_count_by_keys(assoc_association *a, assoc_buf *b,
                                const assoc_model *m, assoc_type key_type) {
  assoc__buf_puts(b, "SELECT COUNT(*) FROM ");
  a->source->db->dialect->key_table(b, 1, key_type);
  assoc__buf_puts(b, " CROSS JOIN ");
  assoc__buf_table_as(b, m->table, m->name);
  assoc__buf_puts(b, " WHERE ");
}

void assoc__assoc_from_owned(assoc_association *a, assoc_buf *b,
                             size_t *ph) {
  assoc_model *t = a->target;
  assoc__buf_puts(b, " FROM ");
  assoc__buf_table_as(b, t->table, t->name);
  assoc__buf_puts(b, " WHERE ");
  assoc__buf_column(b, t->name, assoc__attr_field(t, a->fk_attr));
  assoc__buf_puts(b, " = ");
  assoc__placeholder(t->db, b, ++*ph);
  assoc__assoc_scope_where(a, b, t->name, ph);
}

/* The source key and the scope values that assoc__assoc_from_owned binds. */
int assoc__assoc_owned_params(assoc_association *a, assoc_params *p,
                              const assoc_value *src) {
  int rc = assoc__push_attr_value(a->source->db, p, a->target, a->fk_attr,
                                  src);
  if (rc) return rc;
  assoc__assoc_scope_params(a, p, 0);
  return ASSOC_OK;
}
