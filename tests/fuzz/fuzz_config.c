/* fuzz_config: the bytes as mxdnsd.conf through config_parse_file
 * (zones/config.h), and each line through the command-line forms
 * (config_add_listen, _zone, _dnsbl, config_parse_net).
 *
 * config_parse_file takes a path, so the bytes go into one memfd created
 * on the first run and rewritten for every input: no disk, no temporary
 * file names, and /proc/self/fd/N as the path. */
#include "fuzz.h"

#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

static int fuzz_config_fd = -1;
static char fuzz_config_path[64];

/* The command-line forms on one line of the input. */
static void fuzz_config_line(const char *line)
{
	struct config cfg;
	struct config_net net;
	char err[512];

	config_init(&cfg);
	err[0] = '\0';
	if (config_add_listen(&cfg, line, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] != '\0');
	err[0] = '\0';
	if (config_add_zone(&cfg, line, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] != '\0');
	err[0] = '\0';
	if (config_add_dnsbl(&cfg, line, err, sizeof(err)) != 0)
		FUZZ_CHECK(err[0] != '\0');
	if (config_parse_net(line, &net) == 0) {
		FUZZ_CHECK(net.family == AF_INET || net.family == AF_INET6);
		FUZZ_CHECK(net.prefix <= (net.family == AF_INET ? 32 : 128));
	}
	(void)config_log_level(line);
	config_cleanup(&cfg);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];

	if (fuzz_config_fd < 0) {
		fuzz_quiet();
		fuzz_config_fd = memfd_create("fuzz_config", MFD_CLOEXEC);
		FUZZ_CHECK(fuzz_config_fd >= 0);
		snprintf(fuzz_config_path, sizeof(fuzz_config_path), "/proc/self/fd/%d",
			 fuzz_config_fd);
	}
	FUZZ_CHECK(ftruncate(fuzz_config_fd, 0) == 0);
	FUZZ_CHECK(pwrite(fuzz_config_fd, data, size, 0) == (ssize_t)size);

	config_init(&cfg);
	err[0] = '\0';
	int rc = config_parse_file(&cfg, fuzz_config_path, err, sizeof(err));
	if (rc != 0) {
		/* One line naming the file: FILE:LINE: ... */
		FUZZ_CHECK(strncmp(err, fuzz_config_path, strlen(fuzz_config_path)) == 0);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
	} else {
		FUZZ_CHECK(cfg.udp_size >= 512 && cfg.udp_size <= 4096);
		for (size_t i = 0; i < cfg.n_zones; i++)
			FUZZ_CHECK(cfg.zones[i].name && cfg.zones[i].file);
		for (size_t i = 0; i < cfg.n_dnsbls; i++)
			FUZZ_CHECK(cfg.dnsbls[i].name && cfg.dnsbls[i].db);
	}
	config_cleanup(&cfg);

	/* Lines of a small input through the command-line forms. */
	if (size <= 1024) {
		char *text = fuzz_cstr(data, size);
		FUZZ_CHECK(text != NULL);
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fuzz_config_line(line);
		free(text);
	}
	return 0;
}
