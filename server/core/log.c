#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Lines are gathered in a small buffer so an access log line does not cost a system call;
 * the owner flushes it on a short timer, and errors are flushed at once. */
static char buffer[64 * 1024];
static size_t buffered;
static enum log_level min_level = LOG_INFO;
static char process[32] = "relais";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level level, const char *process_name)
{
	min_level = level;
	log_set_process(process_name);
}

void log_set_process(const char *process_name)
{
	snprintf(process, sizeof process, "%s", process_name);
}

bool log_enabled(enum log_level level)
{
	return level >= min_level;
}

void log_flush(void)
{
	size_t off = 0;
	while (off < buffered) {
		ssize_t n = write(STDERR_FILENO, buffer + off, buffered - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buffered = 0;
}

static void append_line(const char *line, size_t len)
{
	if (buffered + len + 1 > sizeof buffer)
		log_flush();
	if (len + 1 > sizeof buffer) {
		(void)!write(STDERR_FILENO, line, len);
		(void)!write(STDERR_FILENO, "\n", 1);
		return;
	}
	memcpy(buffer + buffered, line, len);
	buffered += len;
	buffer[buffered++] = '\n';
}

static void format_time(char *out, size_t size)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

void log_fields(enum log_level level, json_t *fields)
{
	if (!log_enabled(level)) {
		json_decref(fields);
		return;
	}
	char ts[40];
	format_time(ts, sizeof ts);
	json_t *line = json_pack("{s:s, s:s, s:s, s:i}", "ts", ts, "level", level_names[level],
	                         "process", process, "pid", (json_int_t)getpid());
	json_object_update(line, fields);
	json_decref(fields);
	char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (text) {
		append_line(text, strlen(text));
		free(text);
	}
	if (level >= LOG_WARN)
		log_flush();
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_fields(level, json_pack("{s:s}", "msg", msg));
}
