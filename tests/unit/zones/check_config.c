/* check_config: the configuration parser, on files written into a
 * temporary directory: good files, defaults, and each kind of error with
 * the FILE:LINE and key it must name. */
#include "config.h"
#include "errcode.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static char dir[] = "/tmp/check_config.XXXXXX";
static char path[256];
static char err[512];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mxdnsd.conf", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static int parse(struct config *cfg, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	config_init(cfg);
	err[0] = '\0';
	return config_parse_file(cfg, path, err, sizeof(err));
}

/* Parses text, expects failure, and that the message is "PATH:LINE: ...". */
static void expect_error(const char *text, int line, const char *needle)
{
	struct config cfg;
	char prefix[300];
	int rc = parse(&cfg, text);
	ck_assert_int_eq(rc, MX_ESYNTAX);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", err,
		      prefix);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' does not contain '%s'", err, needle);
	config_cleanup(&cfg);
}

START_TEST(defaults)
{
	struct config cfg;
	config_init(&cfg);
	ck_assert_int_eq(cfg.udp_size, 1232);
	ck_assert_int_eq(cfg.udp_coalesce_us, 30);
	ck_assert_int_eq(cfg.workers, 0);
	ck_assert_str_eq(cfg.version, "mxdnsd " MXDNS_VERSION);
	ck_assert_ptr_nonnull(cfg.identity);
	ck_assert_int_eq(cfg.control_mode, 0660);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.tcp_max_conns, 1000);
	ck_assert_int_eq(cfg.tcp_max_per_ip, 32);
	ck_assert_int_eq(cfg.tcp_idle_ms, 10000);
	ck_assert_int_eq(cfg.tcp_read_ms, 5000);
	ck_assert_uint_eq(cfg.n_listen, 0);
	ck_assert_uint_eq(cfg.n_zones, 0);
	config_cleanup(&cfg);
}
END_TEST

START_TEST(good_file)
{
	struct config cfg;
	int rc = parse(&cfg, "# a full configuration\n"
			     "server:\n"
			     "    listen: 127.0.0.1@5353   # comment\n"
			     "    listen: ::1@5353\n"
			     "\tlisten: 192.0.2.1\n"
			     "    workers: 4\n"
			     "    udp-size: 1400\n"
			     "    udp-coalesce: 0\n"
			     "    version: \"my \\\"server\\\" # not a comment\"\n"
			     "    identity: ns1.example.net\n"
			     "    hide-identity: yes\n"
			     "    control: run/mxdnsd.sock\n"
			     "    control-mode: 0600\n"
			     "    log: syslog\n"
			     "    log-level: debug\n"
			     "    log-queries: yes\n"
			     "    tcp-max-connections: 200\n"
			     "    tcp-max-per-ip: 4\n"
			     "    tcp-idle-timeout: 3000\n"
			     "    tcp-read-timeout: 2000\n"
			     "    user: mxdns\n"
			     "    group: mxdns\n"
			     "    pidfile: /run/mxdnsd.pid\n"
			     "\n"
			     "zone:\n"
			     "    name: example.com\n"
			     "    file: example.com.zone\n"
			     "zone:\n"
			     "    name: \"2.0.192.in-addr.arpa\"\n"
			     "    file: /etc/zones/rev.zone\n"
			     "dnsbl:\n"
			     "    name: bl.example.org\n"
			     "    db: bl.mdb\n"
			     "    list: spam, abuse\n"
			     "    list: exploits\n"
			     "    ttl: 600\n"
			     "    ns: ns1.example.org\n"
			     "    ns: ns2.example.org\n"
			     "    refuse: 192.0.2.0/24\n"
			     "    allow: 2001:db8::/32\n"
			     "    deny-code: 198.51.100.7\n"
			     "    quota-code: 0.0.0.0/0\n");
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(cfg.n_listen, 3);
	ck_assert_int_eq(cfg.listen[0].addr.ss_family, AF_INET);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&cfg.listen[0].addr)->sin_port), 5353);
	ck_assert_int_eq(cfg.listen[1].addr.ss_family, AF_INET6);
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&cfg.listen[1].addr)->sin6_port), 5353);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&cfg.listen[2].addr)->sin_port),
			 CONFIG_DEFAULT_PORT);
	ck_assert_str_eq(cfg.listen[2].text, "192.0.2.1");
	ck_assert_int_eq(cfg.workers, 4);
	ck_assert_int_eq(cfg.udp_size, 1400);
	ck_assert_int_eq(cfg.udp_coalesce_us, 0);
	ck_assert_str_eq(cfg.version, "my \"server\" # not a comment");
	ck_assert_ptr_null(cfg.identity); /* hidden */
	ck_assert_int_eq(cfg.hide_identity, 1);
	char want[300];
	snprintf(want, sizeof(want), "%s/run/mxdnsd.sock", dir);
	ck_assert_str_eq(cfg.control, want);
	ck_assert_int_eq(cfg.control_mode, 0600);
	ck_assert_int_eq(cfg.log_target, LOG_TO_SYSLOG);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_int_eq(cfg.log_queries, 1);
	ck_assert_int_eq(cfg.tcp_max_conns, 200);
	ck_assert_int_eq(cfg.tcp_max_per_ip, 4);
	ck_assert_int_eq(cfg.tcp_idle_ms, 3000);
	ck_assert_int_eq(cfg.tcp_read_ms, 2000);
	ck_assert_str_eq(cfg.user, "mxdns");
	ck_assert_str_eq(cfg.pidfile, "/run/mxdnsd.pid");

	ck_assert_uint_eq(cfg.n_zones, 2);
	ck_assert_str_eq(cfg.zones[0].name, "example.com");
	snprintf(want, sizeof(want), "%s/example.com.zone", dir);
	ck_assert_str_eq(cfg.zones[0].file, want);
	ck_assert_int_eq(cfg.zones[0].line, 25);
	ck_assert_str_eq(cfg.zones[1].name, "2.0.192.in-addr.arpa");
	ck_assert_str_eq(cfg.zones[1].file, "/etc/zones/rev.zone");

	ck_assert_uint_eq(cfg.n_dnsbls, 1);
	struct config_dnsbl *d = &cfg.dnsbls[0];
	ck_assert_str_eq(d->name, "bl.example.org");
	snprintf(want, sizeof(want), "%s/bl.mdb", dir);
	ck_assert_str_eq(d->db, want);
	ck_assert_uint_eq(d->n_lists, 3);
	ck_assert_str_eq(d->lists[0], "spam");
	ck_assert_str_eq(d->lists[1], "abuse");
	ck_assert_str_eq(d->lists[2], "exploits");
	ck_assert_uint_eq(d->ttl, 600);
	ck_assert_uint_eq(d->neg_ttl, 300);
	ck_assert_str_eq(d->soa_mname, "ns.bl.example.org.");
	ck_assert_str_eq(d->soa_rname, "hostmaster.bl.example.org.");
	ck_assert_uint_eq(d->n_ns, 2);
	ck_assert_str_eq(d->ns[1], "ns2.example.org");
	/* ACL lines in file order */
	ck_assert_uint_eq(d->n_acl, 4);
	ck_assert_int_eq(d->acl[0].action, ACL_REFUSE);
	ck_assert_int_eq(d->acl[0].net.family, AF_INET);
	ck_assert_int_eq(d->acl[0].net.prefix, 24);
	ck_assert_int_eq(d->acl[1].action, ACL_ALLOW);
	ck_assert_int_eq(d->acl[1].net.family, AF_INET6);
	ck_assert_int_eq(d->acl[1].net.prefix, 32);
	ck_assert_int_eq(d->acl[2].action, ACL_DENY_CODE);
	ck_assert_int_eq(d->acl[2].net.prefix, 32);
	ck_assert_int_eq(d->acl[3].action, ACL_QUOTA_CODE);
	ck_assert_int_eq(d->acl[3].net.prefix, 0);
	config_cleanup(&cfg);
}
END_TEST

START_TEST(hide_version_and_dnsbl_defaults)
{
	struct config cfg;
	int rc = parse(&cfg, "server:\n  hide-version: yes\n"
			     "dnsbl:\n  name: bl.example.org.\n  db: /var/lib/bl.mdb\n");
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_ptr_null(cfg.version);
	ck_assert_ptr_nonnull(cfg.identity);
	ck_assert_uint_eq(cfg.dnsbls[0].n_lists, 1);
	ck_assert_str_eq(cfg.dnsbls[0].lists[0], "bl.example.org.");
	ck_assert_str_eq(cfg.dnsbls[0].soa_mname, "ns.bl.example.org.");
	ck_assert_uint_eq(cfg.dnsbls[0].n_ns, 1);
	ck_assert_str_eq(cfg.dnsbls[0].ns[0], "ns.bl.example.org.");
	ck_assert_uint_eq(cfg.dnsbls[0].ttl, 2100);
	config_cleanup(&cfg);
}
END_TEST

START_TEST(empty_file)
{
	struct config cfg;
	ck_assert_int_eq(parse(&cfg, "# nothing\n\n"), 0);
	ck_assert_uint_eq(cfg.n_zones, 0);
	config_cleanup(&cfg);
}
END_TEST

START_TEST(errors)
{
	expect_error("server:\n  listen: 127.0.0.1@5300\n  colour: blue\n", 3,
		     "key 'colour': unknown key");
	expect_error("server:\n  workers: 2\n  workers: 3\n", 3, "key 'workers': given twice");
	expect_error("server:\n  workers: 2\nserver:\n  workers: 3\n", 4, "given twice");
	expect_error("server:\n  workers: many\n", 2, "key 'workers': 'many' is not a number");
	expect_error("server:\n  workers: 100000\n", 2, "key 'workers'");
	expect_error("server:\n  udp-size: 511\n", 2, "key 'udp-size'");
	expect_error("server:\n  udp-size: 4097\n", 2, "key 'udp-size'");
	expect_error("server:\n  udp-coalesce: 1001\n", 2, "key 'udp-coalesce'");
	expect_error("server:\n  udp-coalesce: -1\n", 2, "key 'udp-coalesce'");
	expect_error("server:\n  listen: 300.1.1.1@53\n", 2, "key 'listen': bad address");
	expect_error("server:\n  listen: 127.0.0.1@70000\n", 2, "key 'listen': bad port");
	expect_error("server:\n  listen: 127.0.0.1@\n", 2, "key 'listen': bad port");
	expect_error("server:\n  hide-version: maybe\n", 2, "key 'hide-version': 'maybe' is not yes or no");
	expect_error("server:\n  log: file\n", 2, "key 'log'");
	expect_error("server:\n  log-level: loud\n", 2, "key 'log-level'");
	expect_error("server:\n  control-mode: 0999\n", 2, "key 'control-mode'");
	expect_error("server:\n  tcp-idle-timeout: -1\n", 2, "key 'tcp-idle-timeout'");
	expect_error("server:\n  tcp-max-per-ip: 0\n", 2, "key 'tcp-max-per-ip'");
	expect_error("server:\n  version: \"open\n", 2, "key 'version': unterminated");
	expect_error("server:\n  version: \"a\" b\n", 2, "key 'version': text after");
	expect_error("server:\n  version:\n", 2, "key 'version': missing value");
	expect_error("listen: 127.0.0.1\n", 1, "key 'listen': outside of a server:");
	expect_error("server:\n  just words\n", 2, "expected 'key: value'");
	expect_error("zone:\n  name: example.com\n  db: x\n", 3, "key 'db': unknown key in a zone");
	expect_error("# c\nzone:\n  name: example.com\n", 2, "key 'file': missing");
	expect_error("zone:\n  file: x.zone\nserver:\n", 1, "key 'name': missing");
	expect_error("zone:\n  name: bad..name\n  file: x\n", 2, "key 'name': 'bad..name' is not a valid");
	expect_error("zone:\n  name: a.example\n  name: b.example\n  file: x\n", 3, "given twice");
	expect_error("zone:\n  name: a.example\n  file: x\nzone:\n  name: A.example.\n  file: y\n", 4,
		     "declared twice");
	expect_error("dnsbl:\n  name: bl.example\n", 1, "key 'db': missing");
	expect_error("dnsbl:\n  name: bl.example\n  db: x\n  allow: 10.0.0.0/33\n", 4,
		     "key 'allow': '10.0.0.0/33' is not a network");
	expect_error("dnsbl:\n  name: bl.example\n  db: x\n  refuse: example.com\n", 4, "key 'refuse'");
	expect_error("dnsbl:\n  name: bl.example\n  db: x\n  ttl: 1h\n", 4, "key 'ttl'");
	expect_error("dnsbl:\n  name: bl.example\n  db: x\n  list: a,,b\n", 4, "key 'list'");
	expect_error("dnsbl:\n  name: bl.example\n  db: x\n  list: a,\n", 4, "key 'list'");
}
END_TEST

START_TEST(missing_file)
{
	struct config cfg;
	config_init(&cfg);
	int rc = config_parse_file(&cfg, "/nonexistent/mxdnsd.conf", err, sizeof(err));
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/mxdnsd.conf"));
	config_cleanup(&cfg);
}
END_TEST

START_TEST(command_line_forms)
{
	struct config cfg;
	config_init(&cfg);
	ck_assert_int_eq(config_add_listen(&cfg, "127.0.0.1@53", err, sizeof(err)), 0);
	ck_assert_int_eq(config_add_listen(&cfg, "::", err, sizeof(err)), 0);
	ck_assert_int_eq(config_add_listen(&cfg, "[::1]@5353", err, sizeof(err)), 0);
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&cfg.listen[2].addr)->sin6_port), 5353);
	ck_assert_int_eq(config_add_listen(&cfg, "localhost@53", err, sizeof(err)), MX_EINVAL);
	ck_assert_int_eq(config_add_listen(&cfg, "127.0.0.1@0", err, sizeof(err)), MX_EINVAL);

	ck_assert_int_eq(config_add_zone(&cfg, "example.com:/tmp/x.zone", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.zones[0].name, "example.com");
	ck_assert_str_eq(cfg.zones[0].file, "/tmp/x.zone");
	ck_assert_int_eq(config_add_zone(&cfg, "example.com", err, sizeof(err)), MX_EINVAL);
	ck_assert_int_eq(config_add_zone(&cfg, ":x", err, sizeof(err)), MX_EINVAL);
	ck_assert_int_eq(config_add_zone(&cfg, "Example.COM.:y", err, sizeof(err)), MX_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "twice"));

	ck_assert_int_eq(config_add_dnsbl(&cfg, "bl.example:/tmp/bl.mdb", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.dnsbls[0].db, "/tmp/bl.mdb");
	ck_assert_uint_eq(cfg.dnsbls[0].n_lists, 1);
	ck_assert_int_eq(config_add_dnsbl(&cfg, "bl2.example:/tmp/bl.mdb:spam,abuse", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.dnsbls[1].n_lists, 2);
	ck_assert_str_eq(cfg.dnsbls[1].lists[1], "abuse");
	ck_assert_int_eq(config_add_dnsbl(&cfg, "bl3.example", err, sizeof(err)), MX_EINVAL);
	ck_assert_int_eq(config_add_dnsbl(&cfg, "bl3.example::a", err, sizeof(err)), MX_EINVAL);
	ck_assert_int_eq(config_add_dnsbl(&cfg, "bl3.example:/x:", err, sizeof(err)), MX_EINVAL);
	config_cleanup(&cfg);
}
END_TEST

START_TEST(nets)
{
	struct config_net n;
	ck_assert_int_eq(config_parse_net("192.0.2.77/24", &n), 0);
	ck_assert_int_eq(n.family, AF_INET);
	ck_assert_int_eq(n.prefix, 24);
	ck_assert_int_eq(n.addr[3], 0); /* host bits cleared */
	ck_assert_int_eq(n.addr[2], 2);
	ck_assert_int_eq(config_parse_net("192.0.2.255/25", &n), 0);
	ck_assert_int_eq(n.addr[3], 128);
	ck_assert_int_eq(config_parse_net("2001:db8::1", &n), 0);
	ck_assert_int_eq(n.prefix, 128);
	ck_assert_int_eq(n.addr[15], 1);
	ck_assert_int_eq(config_parse_net("2001:db8:ffff::/33", &n), 0);
	ck_assert_int_eq(n.addr[4], 0x80);
	ck_assert_int_eq(config_parse_net("10.0.0.0/", &n), MX_ESYNTAX);
	ck_assert_int_eq(config_parse_net("10.0.0.0/x", &n), MX_ESYNTAX);
	ck_assert_int_eq(config_parse_net("::/129", &n), MX_ESYNTAX);
	ck_assert_int_eq(config_parse_net("", &n), MX_ESYNTAX);
}
END_TEST

START_TEST(log_levels)
{
	ck_assert_int_eq(config_log_level("error"), LOG_ERR);
	ck_assert_int_eq(config_log_level("debug"), LOG_DEBUG);
	ck_assert_int_eq(config_log_level("DEBUG"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, good_file);
	tcase_add_test(tc, hide_version_and_dnsbl_defaults);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, command_line_forms);
	tcase_add_test(tc, nets);
	tcase_add_test(tc, log_levels);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
