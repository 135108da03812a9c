/*
 * store_names.c: the names of the store's enumerations, and their parsers.
 */
#include <string.h>

#include "err.h"
#include "store.h"

static const char *const modules[] = { "userdata", "confcontent", "config" };
static const char *const rels[] = { "blocked", "external", "colleague",
	"workgroup", "friends" };
static const char *const accesses[] = { "open", "closed", "invited" };
static const char *const kinds[] = { "presentation", "whiteboard", "handout",
	"attachment" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *tab, size_t n, unsigned v)
{

	return (v < n ? tab[v] : "?");
}

/* Find ${s} in ${tab}; on failure record PP_EINVAL listing the choices. */
static int
name_parse(const char *const *tab, size_t n, const char *s, const char *what,
    int *out)
{
	char choices[128] = "";
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, tab[i]) == 0) {
			*out = (int)i;
			return (0);
		}
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(choices, ", ");
		strcat(choices, tab[i]);
	}
	pp_err(PP_EINVAL, "unknown %s '%.32s' (one of: %s)", what, s,
	    choices);
	return (-1);
}

const char *
store_module_name(enum store_module m)
{

	return (name_of(modules, NELEM(modules), (unsigned)m));
}

int
store_module_parse(const char *s, enum store_module *out)
{
	int v;

	if (name_parse(modules, NELEM(modules), s, "module", &v) != 0)
		return (-1);
	*out = (enum store_module)v;
	return (0);
}

const char *
store_rel_name(enum store_rel r)
{

	return (name_of(rels, NELEM(rels), (unsigned)r));
}

int
store_rel_parse(const char *s, enum store_rel *out)
{
	int v;

	if (name_parse(rels, NELEM(rels), s, "relationship", &v) != 0)
		return (-1);
	*out = (enum store_rel)v;
	return (0);
}

const char *
store_access_name(enum store_access a)
{

	return (name_of(accesses, NELEM(accesses), (unsigned)a));
}

int
store_access_parse(const char *s, enum store_access *out)
{
	int v;

	if (name_parse(accesses, NELEM(accesses), s, "access", &v) != 0)
		return (-1);
	*out = (enum store_access)v;
	return (0);
}

const char *
store_kind_name(enum store_kind k)
{

	return (name_of(kinds, NELEM(kinds), (unsigned)k));
}

int
store_kind_parse(const char *s, enum store_kind *out)
{
	int v;

	if (name_parse(kinds, NELEM(kinds), s, "kind", &v) != 0)
		return (-1);
	*out = (enum store_kind)v;
	return (0);
}
