/* cmd: the subcommands of mxdns. Each takes the arguments after its own
 * name (argv[0] is the subcommand name) and returns the process exit code:
 * 0 success, 1 a check failed or the change was refused, 2 usage or
 * runtime error (with one line on stderr saying what to do). */
#ifndef MXDNS_CMD_H
#define MXDNS_CMD_H

int cmd_dkim(int argc, char **argv);
int cmd_spf(int argc, char **argv);
int cmd_dmarc(int argc, char **argv);
int cmd_mta_sts(int argc, char **argv);
int cmd_tls_rpt(int argc, char **argv);
int cmd_tlsa(int argc, char **argv);
int cmd_zone(int argc, char **argv);
int cmd_bl(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
