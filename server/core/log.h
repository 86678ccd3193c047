/* JSON log lines on stderr, one object per line; buffered and flushed often. */
#ifndef RELAIS_LOG_H
#define RELAIS_LOG_H

#include <jansson.h>

#include "core/common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(enum log_level min_level, const char *process_name);
void log_set_process(const char *process_name);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Writes `fields` (stolen) as one line, adding ts, level and process. */
void log_fields(enum log_level level, json_t *fields);
/* Writes buffered lines; called by a timer and before exit. */
void log_flush(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
