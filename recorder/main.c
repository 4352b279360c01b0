/* cordon: the front end. Dispatches to the subcommands, each of which lives
 * with the module that does its work, and owns the exit codes. */
#include <stdio.h>
#include <string.h>

#include <cordon/cli.h>

static const char usage[] =
    "Usage: cordon COMMAND [OPTIONS] [ARGS...]\n"
    "\n"
    "Record what a build reads, pack it as a minimal root, replay it anywhere.\n"
    "\n"
    "Commands:\n"
    "  record [-o MANIFEST] -- CMD...   run CMD and record every file, process and\n"
    "                                   variable it used into a manifest\n"
    "  show MANIFEST                    summarise a manifest\n"
    "  verify MANIFEST                  check this host against a manifest\n"
    "  diff A B                         compare two manifests, likely causes first\n"
    "  pack MANIFEST -o ARCHIVE         write the minimal root as an archive\n"
    "  replay ARCHIVE [-- CMD...]       rerun the build inside its root and\n"
    "                                   compare the outputs\n"
    "  run [--profile NAME] -- CMD...   run CMD on this host through an isolation\n"
    "                                   policy (user and site config hidden)\n"
    "  doctor                           what this machine allows, which runner\n"
    "                                   auto picks\n"
    "  report MANIFEST                  the breaches a manifest shows, explained,\n"
    "                                   with fixes\n"
    "  learn -- CMD...                  the smallest policy a build runs under\n"
    "  bisect ARCHIVE -- TEST...        which host inputs make a build differ\n"
    "  import --from TRACER LOG         another tracer's log as a manifest\n"
    "  export --to FORMAT MANIFEST      a manifest or policy as a sandbox profile\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help (cordon COMMAND --help for a command's)\n"
    "  -V, --version   show the version\n"
    "\n"
    "Exit status: the command's own status (128+N if it died of signal N) for\n"
    "record and replay; 1 when verify or diff find a difference; 125 when cordon\n"
    "itself fails, 126 when the command cannot be executed, 127 when it is not\n"
    "found. See cordon(1) and cordon-COMMAND(1).\n";

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
    {"record", cordon_cmd_record}, {"show", cordon_cmd_show},     {"verify", cordon_cmd_verify},
    {"diff", cordon_cmd_diff},     {"pack", cordon_cmd_pack},     {"replay", cordon_cmd_replay},
    {"run", cordon_cmd_run},       {"doctor", cordon_cmd_doctor}, {"report", cordon_cmd_report},
    {"learn", cordon_cmd_learn},   {"bisect", cordon_cmd_bisect}, {"import", cordon_cmd_import},
    {"export", cordon_cmd_export},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return CORDON_EXIT_FAILURE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("cordon %s\n", CORDON_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(cmd, subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cordon: unknown command '%s'\nTry 'cordon --help'.\n", cmd);
    return CORDON_EXIT_FAILURE;
}
