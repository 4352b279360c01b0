/* cordon_run_host: the dispatch to the runner the spec names. Alone in its
 * file: it pulls in every runner, the hook's with the recorder behind it. */
#include <errno.h>

#include <cordon/error.h>
#include <cordon/replay.h>
#include <cordon/run.h>

/* ---- dispatch ----------------------------------------------------------- */

int cordon_run_host(const struct cordon_host_run_spec *spec, int *ret_status,
                    struct cordon_error *err) {
    if (!spec->policy)
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "no policy to run with");
    if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return cordon_error_set(err, EINVAL, NULL, 0, 0, "no command to run");
    if (spec->cwd && spec->cwd[0] != '/')
        return cordon_error_set(err, EINVAL, spec->cwd, 0, 0,
                                "the working directory '%s' is not absolute", spec->cwd);
    switch (spec->backend) {
    case CORDON_BACKEND_NAMESPACE:
        return cordon_run_host_namespace(spec, ret_status, err);
    case CORDON_BACKEND_HOOK:
        return cordon_run_host_hook(spec, ret_status, err);
    case CORDON_BACKEND_LANDLOCK:
        return cordon_run_host_landlock(spec, ret_status, err);
    case CORDON_BACKEND_AUTO:
    case CORDON_BACKEND_FAKECHROOT:
    case CORDON_BACKEND_MAX:
    case CORDON_BACKEND_INVALID:
    default:
        break;
    }
    return cordon_error_set(err, EINVAL, NULL, 0, 0,
                            "the runner of cordon run must be namespace, hook or landlock");
}
