/*
 * err.h: the one error idiom.  A function that fails records, at the place the
 * failure is found, a class and one line of text, then returns -1 or NULL.
 * The caller at the top (the CLI, the daemon) prints that line once.
 * The record is per thread.
 */
#ifndef PP_ERR_H
#define PP_ERR_H

enum pp_err {
	PP_OK = 0,
	PP_EINVAL,	/* bad input: refused, nothing changed */
	PP_ENOENT,	/* unknown user, conference, item */
	PP_EEXIST,	/* duplicate add */
	PP_ELIMIT,	/* a bound was reached */
	PP_EROFS,	/* not writable here (replica, not the config master) */
	PP_EAGAIN,	/* a concurrent change got in the way: try again */
	PP_ESTORE,	/* the store is missing, foreign, corrupted or unusable */
	PP_EKEY,	/* the storage key is missing, loose or wrong */
	PP_EIO,		/* an I/O error outside the store */
	PP_EINTERNAL	/* a broken invariant or out of memory */
};

/* Record error class ${code} with a printf-style message (truncated at 512). */
void pp_err(enum pp_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As pp_err, then append ": " and strerror(errno). */
void pp_errp(enum pp_err code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last recorded message ("" if none) and class. */
const char *pp_errmsg(void);
enum pp_err pp_errcode(void);

/* Change the class of the recorded error to ${code}, keeping its text. */
void pp_err_reclass(enum pp_err code);

/* Forget the last error. */
void pp_err_clear(void);

#endif
