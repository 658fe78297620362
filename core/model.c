/*
** model.c: model definitions: attributes completed with their column
** names, the implicit id and timestamps, lookups by name, and the
** destructor that frees models with their associations.
*/
#include <string.h>

#include "internal.h"

static int valid_type(assoc_type t) {
  return t >= ASSOC_TYPE_INTEGER && t <= ASSOC_TYPE_JSON;
}

static void attr_free(assoc_attr *a) {
  assoc__free((char *)a->def.name);
  assoc__free((char *)a->def.field);
  assoc__free(a->default_text);
  assoc__free(a->references_table);
  assoc__free(a->references_column);
  assoc__free(a->on_delete);
  assoc__free(a->on_update);
}

int assoc__model_add_attr(assoc_model *m, const assoc_attr_def *def) {
  assoc_db *db = m->db;
  assoc_attr a;
  if (!def->name || !*def->name)
    return assoc__error(db, ASSOC_MISUSE, "attribute name expected"), -1;
  if (!valid_type(def->type))
    return assoc__error(db, ASSOC_MISUSE, "attribute '%s' of %s has an "
                        "unknown type", def->name, m->name), -1;
  if (assoc_model_attr_index(m, def->name) >= 0)
    return assoc__error(db, ASSOC_MISUSE, "attribute '%s' defined twice on "
                        "%s", def->name, m->name), -1;
  if (m->nattrs == m->capattrs) {
    size_t cap = m->capattrs ? m->capattrs * 2 : 8;
    assoc_attr *na = assoc__realloc(m->attrs, cap * sizeof *na);
    if (!na) return assoc__error(db, ASSOC_NOMEM, "out of memory"), -1;
    m->attrs = na;
    m->capattrs = cap;
  }
  memset(&a, 0, sizeof a);
  a.def = *def;
  a.def.default_value = NULL;
  a.def.name = assoc__strdup(def->name);
  if (def->field)
    a.def.field = assoc__strdup(def->field);
  else if (m->underscored)
    a.def.field = assoc__underscore(def->name);
  else
    a.def.field = assoc__strdup(def->name);
  if (def->default_value) {
    a.has_default = 1;
    a.default_value = *def->default_value;
    if (def->default_value->kind == ASSOC_TEXT ||
        def->default_value->kind == ASSOC_BLOB) {
      a.default_text = assoc__strndup(def->default_value->u.s.p,
                                      def->default_value->u.s.n);
      a.default_value.u.s.p = a.default_text;
      if (!a.default_text) a.has_default = -1;
    }
    a.def.default_value = &m->attrs[m->nattrs].default_value;
  }
  if (!a.def.name || !a.def.field || a.has_default < 0) {
    attr_free(&a);
    return assoc__error(db, ASSOC_NOMEM, "out of memory"), -1;
  }
  m->attrs[m->nattrs] = a;
  /* The realloc above may have moved the array: re-point every default. */
  {
    size_t i;
    for (i = 0; i <= m->nattrs; i++)
      if (m->attrs[i].has_default)
        m->attrs[i].def.default_value = &m->attrs[i].default_value;
  }
  return (int)m->nattrs++;
}

static void fix_default_pointers(assoc_model *m) {
  size_t i;
  for (i = 0; i < m->nattrs; i++)
    m->attrs[i].def.default_value =
        m->attrs[i].has_default ? &m->attrs[i].default_value : NULL;
}

static void shift_index(int *idx, int removed) {
  if (*idx == removed) *idx = -1;
  else if (*idx > removed) (*idx)--;
}

void assoc__model_remove_attr(assoc_model *m, int attr) {
  size_t i;
  if (attr < 0 || (size_t)attr >= m->nattrs) return;
  attr_free(&m->attrs[attr]);
  memmove(&m->attrs[attr], &m->attrs[attr + 1],
          (m->nattrs - (size_t)attr - 1) * sizeof *m->attrs);
  m->nattrs--;
  fix_default_pointers(m);
  shift_index(&m->pk, attr);
  shift_index(&m->created_at, attr);
  shift_index(&m->updated_at, attr);
  for (i = 0; i < 2; i++) {
    shift_index(&m->pk_pair[i], attr);
    shift_index(&m->unique_pair[i], attr);
  }
}

const char *assoc__attr_field(const assoc_model *m, int attr) {
  return m->attrs[attr].def.field;
}

static void scope_free(int *attrs, assoc_value *values, char **text,
                       size_t n) {
  size_t i;
  for (i = 0; i < n && text; i++) assoc__free(text[i]);
  assoc__free(text);
  assoc__free(attrs);
  assoc__free(values);
}

void assoc__association_free(struct assoc_association *a) {
  size_t i;
  if (!a) return;
  assoc__free(a->as);
  assoc__free(a->singular);
  assoc__free(a->plural);
  assoc__free(a->foreign_key);
  assoc__free(a->other_key);
  for (i = 0; i < ASSOC_ACCESSOR_COUNT; i++) assoc__free(a->accessors[i]);
  scope_free(a->scope_attrs, a->scope_values, a->scope_text, a->nscope);
  scope_free(a->through_scope_attrs, a->through_scope_values,
             a->through_scope_text, a->nthrough_scope);
  for (i = 0; i < sizeof a->sql / sizeof a->sql[0]; i++)
    assoc__free(a->sql[i]);
  assoc__free(a);
}

static void model_free(assoc_model *m) {
  size_t i;
  if (!m) return;
  for (i = 0; i < m->nattrs; i++) attr_free(&m->attrs[i]);
  for (i = 0; i < m->nassocs; i++) assoc__association_free(m->assocs[i]);
  assoc__free(m->assocs);
  assoc__free(m->attrs);
  assoc__free(m->name);
  assoc__free(m->singular);
  assoc__free(m->plural);
  assoc__free(m->table);
  assoc__free(m);
}

void assoc__models_free(assoc_db *db) {
  size_t i;
  for (i = 0; i < db->nmodels; i++) model_free(db->models[i]);
  assoc__free(db->models);
  db->models = NULL;
  db->nmodels = db->capmodels = 0;
}

static int add_timestamps(assoc_model *m) {
  assoc_attr_def d;
  memset(&d, 0, sizeof d);
  d.type = ASSOC_TYPE_DATE;
  d.not_null = 1;
  if (assoc_model_attr_index(m, "createdAt") < 0) {
    d.name = "createdAt";
    if (assoc__model_add_attr(m, &d) < 0) return m->db->errcode;
  }
  if (assoc_model_attr_index(m, "updatedAt") < 0) {
    d.name = "updatedAt";
    if (assoc__model_add_attr(m, &d) < 0) return m->db->errcode;
  }
  m->created_at = assoc_model_attr_index(m, "createdAt");
  m->updated_at = assoc_model_attr_index(m, "updatedAt");
  return ASSOC_OK;
}

static int table_name(assoc_model *m, const assoc_model_opts *opts) {
  if (opts && opts->table_name) {
    m->table = assoc__strdup(opts->table_name);
  } else if (m->underscored) {
    m->table = assoc__underscore(m->plural);
  } else {
    m->table = assoc__strdup(m->plural);
  }
  return m->table ? ASSOC_OK : ASSOC_NOMEM;
}

static int model_build(assoc_model *m, const assoc_attr_def *attrs,
                       size_t nattrs, const assoc_model_opts *opts) {
  assoc_db *db = m->db;
  size_t i;
  int pk = -1;
  m->name = assoc__strdup(m->name);
  m->singular = assoc__singularize(m->name);
  m->plural = assoc__pluralize(m->name);
  if (!m->name || !m->singular || !m->plural || table_name(m, opts))
    return assoc__error(db, ASSOC_NOMEM, "out of memory");
  for (i = 0; i < nattrs; i++) {
    int idx;
    if (attrs[i].primary_key && pk >= 0)
      return assoc__error(db, ASSOC_MISUSE, "%s has more than one primary "
                          "key attribute", m->name);
    idx = assoc__model_add_attr(m, &attrs[i]);
    if (idx < 0) return db->errcode;
    if (attrs[i].primary_key) pk = idx;
  }
  if (pk < 0) {
    assoc_attr_def id;
    memset(&id, 0, sizeof id);
    id.name = "id";
    id.type = ASSOC_TYPE_INTEGER;
    id.primary_key = 1;
    id.auto_increment = 1;
    if (assoc_model_attr_index(m, "id") >= 0)
      return assoc__error(db, ASSOC_MISUSE, "%s has an attribute 'id' but "
                          "no primary key", m->name);
    /* The implicit key goes first, as in Sequelize's tables. */
    pk = assoc__model_add_attr(m, &id);
    if (pk < 0) return db->errcode;
    if (pk > 0) {
      assoc_attr tmp = m->attrs[pk];
      memmove(&m->attrs[1], &m->attrs[0], (size_t)pk * sizeof *m->attrs);
      m->attrs[0] = tmp;
      fix_default_pointers(m);
      pk = 0;
    }
  }
  m->pk = pk;
  if (m->timestamps) return add_timestamps(m);
  return ASSOC_OK;
}

int assoc_model_define(assoc_db *db, const char *name,
                       const assoc_attr_def *attrs, size_t nattrs,
                       const assoc_model_opts *opts, assoc_model **out) {
  assoc_model *m;
  int rc;
  if (out) *out = NULL;
  rc = assoc__check_open(db);
  if (rc) return rc;
  if (!name || !*name)
    return assoc__error(db, ASSOC_MISUSE, "model name expected");
  if (assoc_db_model(db, name))
    return assoc__error(db, ASSOC_MISUSE, "model '%s' is already defined",
                        name);
  if (db->nmodels == db->capmodels) {
    size_t cap = db->capmodels ? db->capmodels * 2 : 8;
    assoc_model **nm = assoc__realloc(db->models, cap * sizeof *nm);
    if (!nm) return assoc__error(db, ASSOC_NOMEM, "out of memory");
    db->models = nm;
    db->capmodels = cap;
  }
  m = assoc__malloc(sizeof *m);
  if (!m) return assoc__error(db, ASSOC_NOMEM, "out of memory");
  memset(m, 0, sizeof *m);
  m->db = db;
  m->name = (char *)name;      /* copied first thing in model_build */
  m->pk = m->created_at = m->updated_at = -1;
  m->pk_pair[0] = m->pk_pair[1] = m->unique_pair[0] = m->unique_pair[1] = -1;
  m->underscored = opts && opts->underscored;
  m->timestamps = !(opts && opts->no_timestamps);
  rc = model_build(m, attrs, nattrs, opts);
  if (rc) {
    if (m->name == name) m->name = NULL;
    model_free(m);
    return rc;
  }
  db->models[db->nmodels++] = m;
  if (out) *out = m;
  return ASSOC_OK;
}

assoc_model *assoc_db_model(const assoc_db *db, const char *name) {
  size_t i;
  if (!db || !name) return NULL;
  for (i = 0; i < db->nmodels; i++)
    if (strcmp(db->models[i]->name, name) == 0) return db->models[i];
  return NULL;
}

assoc_db *assoc_model_db(const assoc_model *m) { return m ? m->db : NULL; }
const char *assoc_model_name(const assoc_model *m) {
  return m ? m->name : NULL;
}
const char *assoc_model_table(const assoc_model *m) {
  return m ? m->table : NULL;
}
size_t assoc_model_attr_count(const assoc_model *m) {
  return m ? m->nattrs : 0;
}

int assoc_model_attr_index(const assoc_model *m, const char *name) {
  size_t i;
  if (!m || !name) return -1;
  for (i = 0; i < m->nattrs; i++)
    if (strcmp(m->attrs[i].def.name, name) == 0) return (int)i;
  return -1;
}

const assoc_attr_def *assoc_model_attr(const assoc_model *m, size_t i) {
  return m && i < m->nattrs ? &m->attrs[i].def : NULL;
}

int assoc_model_pk(const assoc_model *m) { return m ? m->pk : -1; }
int assoc_model_created_at(const assoc_model *m) {
  return m ? m->created_at : -1;
}
int assoc_model_updated_at(const assoc_model *m) {
  return m ? m->updated_at : -1;
}
