#include "http/static.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "http/request.h"

#define STATIC_MAX_FILES 4096
#define STATIC_MAX_BYTES (128 << 20)

struct static_file {
	char *path; /* "/assets/index-3f2a.js" */
	char *data;
	size_t len;
	const char *content_type;
	char etag[36];
	bool immutable;
};

static struct static_file *files;
static size_t file_count, total_bytes;

const char *static_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json; charset=utf-8"},
	    {".webmanifest", "application/manifest+json; charset=utf-8"},
	    {".svg", "image/svg+xml; charset=utf-8"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".map", "application/json; charset=utf-8"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".jpeg", "image/jpeg"},
	    {".gif", "image/gif"},
	    {".webp", "image/webp"},
	    {".ico", "image/x-icon"},
	    {".woff2", "font/woff2"},
	    {".woff", "font/woff"},
	};
	const char *dot = strrchr(name, '.');
	if (dot)
		for (size_t i = 0; i < ARRAY_LEN(types); i++)
			if (!strcmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

static bool load_file(const char *fs_path, const char *url_path, size_t size)
{
	if (file_count == STATIC_MAX_FILES || total_bytes + size > STATIC_MAX_BYTES) {
		log_warn("web_root is too large; %s and later files are not served", url_path);
		return false;
	}
	FILE *f = fopen(fs_path, "rb");
	if (!f)
		return false;
	char *data = xmalloc(size ? size : 1);
	bool ok = fread(data, 1, size, f) == size;
	fclose(f);
	if (!ok) {
		free(data);
		return false;
	}
	if (!files)
		files = xcalloc(STATIC_MAX_FILES, sizeof *files);
	struct static_file *sf = &files[file_count++];
	sf->path = xstrdup(url_path);
	sf->data = data;
	sf->len = size;
	sf->content_type = static_content_type(url_path);
	sf->immutable = strncmp(url_path, "/assets/", 8) == 0;
	unsigned char hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, (const unsigned char *)data, size);
	sf->etag[0] = '"';
	sodium_bin2hex(sf->etag + 1, 33, hash, 16);
	strcat(sf->etag, "\"");
	total_bytes += size;
	return true;
}

static void walk(const char *dir, const char *prefix, int depth)
{
	if (depth > 8)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* also skips . and .. */
		char fs_path[PATH_MAX], url_path[PATH_MAX];
		snprintf(fs_path, sizeof fs_path, "%s/%s", dir, e->d_name);
		snprintf(url_path, sizeof url_path, "%s/%s", prefix, e->d_name);
		struct stat st;
		if (lstat(fs_path, &st) != 0)
			continue;
		/* Symbolic links are not followed: they could point anywhere. */
		if (S_ISDIR(st.st_mode))
			walk(fs_path, url_path, depth + 1);
		else if (S_ISREG(st.st_mode))
			load_file(fs_path, url_path, (size_t)st.st_size);
	}
	closedir(d);
}

bool static_load(const char *root)
{
	static_unload();
	struct stat st;
	if (!root[0] || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_warn("web_root %s is not a directory: the web app is not served (build it with "
		         "`cd web && npm ci && npm run build`)",
		         root);
		return false;
	}
	walk(root, "", 0);
	if (files)
		qsort(files, file_count, sizeof *files, compare_files);
	log_debug("loaded %zu web files (%zu bytes) from %s", file_count, total_bytes, root);
	return true;
}

void static_unload(void)
{
	for (size_t i = 0; i < file_count; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
	files = NULL;
	file_count = total_bytes = 0;
}

static const struct static_file *find(const char *path)
{
	if (!files)
		return NULL;
	struct static_file key = {.path = (char *)path};
	return bsearch(&key, files, file_count, sizeof *files, compare_files);
}

void static_serve(struct http_req *req)
{
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_set_header(req, "Allow", "GET, HEAD");
		http_reply_error(req, 405, "method_not_allowed", "This method is not allowed on this resource.", NULL);
		return;
	}
	const char *path = req->path;
	if (!strcmp(path, "/"))
		path = "/index.html";
	const struct static_file *f = find(path);
	/* The app's own routes (/communities, /people/42...) get index.html; a missing asset or
	 * file with an extension stays a 404, so that a broken link is visible as one. */
	if (!f) {
		const char *last = strrchr(path, '/');
		bool looks_like_file = last && strchr(last, '.');
		if (strncmp(path, "/assets/", 8) != 0 && !looks_like_file)
			f = find("/index.html");
	}
	if (!f) {
		http_reply_error(req, 404, "not_found", "No such file.", NULL);
		return;
	}
	req->page = !strncmp(f->content_type, "text/html", 9);
	http_set_header(req, "ETag", f->etag);
	http_set_header(req, "Cache-Control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	const char *inm = http_header(req, "If-None-Match");
	if (inm && (strstr(inm, f->etag) || !strcmp(inm, "*"))) {
		http_reply_empty(req, 304);
		return;
	}
	http_reply_bytes(req, 200, f->content_type, f->data, f->len, true);
}
