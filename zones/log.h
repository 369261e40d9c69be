/* log: one line per event, to stderr or syslog. Thread-safe: each line is
 * formatted into a local buffer and written with one call. */
#ifndef MXDNS_LOG_H
#define MXDNS_LOG_H

#include <syslog.h>

/* Where lines go and the least important level shown (LOG_ERR..LOG_DEBUG).
 * ident names the program in every line. Defaults: stderr, LOG_INFO. */
void log_setup(const char *ident, int use_syslog, int level);
int log_enabled(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
