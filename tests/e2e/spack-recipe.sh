#!/bin/bash
# packaging/spack: the recipe is valid Python that imports against a stub of
# `spack.package` (no Spack checkout can run here: no network), its
# directives name Spack packages that exist and cover every library
# CMakeLists.txt looks for, and its build steps, run as the plain CMake
# commands Spack's CMakePackage would run (configure with the recipe's
# cmake_args, build, install into a prefix) from a `git archive` tarball of
# the committed tree, give a cordon that runs from the prefix. Then the
# cordon-spack-build wrapper, driven by a stand-in `spack` that does what
# install/stage/location/build-env do, records a package's build and reports
# the ~/.gitconfig it read.
# tiers: self
# timeout: 900
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
command -v git >/dev/null || skip "git is not installed"
[[ -d $CORDON_SOURCE/.git ]] || skip "the source is not a git checkout"
recipe=$CORDON_SOURCE/packaging/spack/package.py
wrapper=$CORDON_SOURCE/packaging/spack/cordon-spack-build

log_step "the recipe compiles and imports against a stub spack.package"
cp "$recipe" "$TEST_TMP/package.py"
assert_status 0 python3 -m py_compile "$TEST_TMP/package.py"
mkdir -p stub/spack
: >stub/spack/__init__.py
# Just enough of Spack's package API (spack/package.py re-exports the
# directives and build systems) to import a recipe and record what it
# declares. define() formats as Spack's CMakeBuilder.define does.
cat >stub/spack/package.py <<'EOF'
DIRECTIVES = []


def _directive(name):
    def record(*args, **kwargs):
        DIRECTIVES.append((name, args, kwargs))
    return record


for _name in ("version", "variant", "depends_on", "requires", "conflicts",
              "license", "maintainers", "patch", "provides", "resource"):
    globals()[_name] = _directive(_name)


def run_after(*phases, **kwargs):
    return lambda f: f


def on_package_attributes(**kwargs):
    return lambda f: f


class Executable:
    def __init__(self, path):
        self.path = path


class _Variant:
    def __init__(self, value):
        self.value = value


class _Spec:
    def __init__(self, variants):
        self.variants = variants


class CMakePackage:
    def __init__(self):
        variants = {}
        for name, args, kwargs in DIRECTIVES:
            if name == "variant":
                variants[args[0]] = _Variant(kwargs.get("default"))
        self.spec = _Spec(variants)

    @staticmethod
    def define(name, value):
        if isinstance(value, bool):
            return "-D%s:BOOL=%s" % (name, "ON" if value else "OFF")
        if isinstance(value, (list, tuple)):
            return "-D%s:STRING=%s" % (name, ";".join(str(v) for v in value))
        return "-D%s:STRING=%s" % (name, value)

    def define_from_variant(self, name, variant):
        return self.define(name, self.spec.variants[variant].value)
EOF
cat >check.py <<'EOF'
import importlib.util
import re
import sys

sys.path.insert(0, sys.argv[1])
import spack.package as sp  # noqa: E402

spec = importlib.util.spec_from_file_location("cordon_recipe", sys.argv[2])
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)
assert issubclass(recipe.Cordon, sp.CMakePackage), "Cordon is not a CMakePackage"
for attr in ("homepage", "url", "git"):
    assert getattr(recipe.Cordon, attr, "").startswith("https://"), attr
assert (recipe.Cordon.__doc__ or "").strip(), "no description"

deps = {}
for name, args, kwargs in sp.DIRECTIVES:
    if name == "depends_on":
        pkg = re.split(r"[@%+~ ^]", args[0], maxsplit=1)[0]
        deps[pkg] = (args[0], kwargs.get("type", ("build", "link")))
versions = [args[0] for name, args, kwargs in sp.DIRECTIVES if name == "version"]
assert "main" in versions, versions

# Packages of spack/spack's builtin repository (var/spack/repos/builtin/
# packages/<name>/package.py), and the virtuals "c" (a C compiler) and
# "pkgconfig" (pkgconf or pkg-config). Criterion has no package there.
SPACK_PACKAGES = {"c", "cmake", "pkgconfig", "libarchive", "jansson", "xxhash", "fakechroot"}
unknown = set(deps) - SPACK_PACKAGES
assert not unknown, "not Spack packages: %s" % sorted(unknown)

# Every library CMakeLists.txt looks for is a dependency.
top = open(sys.argv[3]).read()
needs = {"LibArchive": "libarchive", "jansson": "jansson", "libxxhash": "xxhash",
         "PkgConfig": "pkgconfig"}
for cmake_name, pkg in needs.items():
    assert cmake_name in top, "CMakeLists.txt no longer names %s" % cmake_name
    assert pkg in deps, "no depends_on(%r) for %s" % (pkg, cmake_name)
assert "build" in deps["cmake"][1] and "build" in deps["pkgconfig"][1]
m = re.search(r"cmake_minimum_required\(VERSION ([0-9.]+)\)", top)
assert m and ("cmake@%s:" % m.group(1)) in deps["cmake"][0], deps["cmake"]

for arg in recipe.Cordon().cmake_args():
    print(arg)
EOF
assert_status 0 python3 check.py "$TEST_TMP/stub" "$TEST_TMP/package.py" "$CORDON_SOURCE/CMakeLists.txt"
cp "$TEST_TMP/out" cmake-args
log "cmake_args: $(tr '\n' ' ' <cmake-args)"
assert_file_has_content cmake-args '^-DCORDON_WERROR:BOOL=OFF$'
assert_file_has_content cmake-args '^-DCORDON_TESTS:BOOL=OFF$'

log_step "the recipe's build steps as plain CMake commands, from a git archive tarball"
git -C "$CORDON_SOURCE" archive --format=tar.gz --prefix=cordon-main/ -o "$TEST_TMP/cordon-main.tar.gz" HEAD
tar -xzf cordon-main.tar.gz
mapfile -t args <cmake-args
# What Spack's CMakeBuilder adds to every package's cmake_args.
std=(-G "Unix Makefiles" "-DCMAKE_INSTALL_PREFIX:STRING=$TEST_TMP/prefix"
    -DCMAKE_BUILD_TYPE:STRING=Release -DBUILD_TESTING:BOOL=OFF
    -DCMAKE_INTERPROCEDURAL_OPTIMIZATION:BOOL=OFF)
assert_status 0 cmake -S cordon-main -B spack-build "${std[@]}" "${args[@]}"
assert_status 0 cmake --build spack-build -j2
assert_status 0 cmake --install spack-build
assert_status 0 "$TEST_TMP/prefix/bin/cordon" --version
assert_file_has_content "$TEST_TMP/out" '^cordon [0-9]'
assert_file_exists "$TEST_TMP/prefix/share/man/man1/cordon.1"
# The installed layout finds its hook: a recording works.
assert_status 0 "$TEST_TMP/prefix/bin/cordon" record -q -o installed.json -- /bin/true
assert_file_has_content installed.json '"cordon_manifest"'

log_step "cordon-spack-build with a stand-in spack"
# The stand-in does what the real subcommands do, for one package whose
# sources are in $TEST_TMP/pkg-src, and logs each call.
mkdir -p bin pkg-src
cat >bin/spack <<'EOF'
#!/bin/bash
set -euo pipefail
echo "spack $*" >>"$TEST_TMP/spack.log"
case $1 in
install) [[ $2 == --only && $3 == dependencies ]] ;;
stage) rm -rf "$TEST_TMP/stage" && mkdir -p "$TEST_TMP/stage" && cp -a "$TEST_TMP/pkg-src" "$TEST_TMP/stage/spack-src" ;;
location) [[ $2 == --source-dir ]] && echo "$TEST_TMP/stage/spack-src" ;;
build-env)
    shift 2
    [[ $1 == -- ]] && shift
    SPACK_CC=cc SPACK_SHORT_SPEC=demo@1.0 exec "$@"
    ;;
*) exit 1 ;;
esac
EOF
chmod +x bin/spack
cat >pkg-src/configure <<'EOF'
#!/bin/sh
prefix=/usr/local
for a; do case $a in --prefix=*) prefix=${a#--prefix=} ;; esac; done
printf 'PREFIX=%s\n' "$prefix" >config.mk
EOF
chmod +x pkg-src/configure
# The breach: the build consults the user's git identity for a version stamp.
cat >pkg-src/Makefile <<'EOF'
include config.mk
all: demo
demo: demo.c
	cat "$(HOME)/.gitconfig" >/dev/null
	cc -o demo demo.c
install: demo
	mkdir -p "$(PREFIX)/bin"
	cp demo "$(PREFIX)/bin/"
EOF
echo 'int main(void) { return 0; }' >pkg-src/demo.c
printf '[user]\n\tname = Someone\n' >"$HOME/.gitconfig"
assert_status 0 env SPACK="$TEST_TMP/bin/spack" CORDON="$CORDON" "$wrapper" -o demo.json -j 2 demo@1.0
report=$TEST_TMP/out
assert_file_has_content spack.log '^spack install --only dependencies demo@1.0$'
assert_file_has_content spack.log '^spack stage demo@1.0$'
assert_file_has_content spack.log '^spack build-env demo@1.0 -- '
assert_file_exists "$TEST_TMP/demo.cordon-prefix/bin/demo"
assert_file_has_content demo.json '"path": "[^"]*/home/\.gitconfig"'
assert_file_has_content "$report" 'gitconfig'
# A failing build: the wrapper exits with its status and still reports.
echo 'broken:' >>pkg-src/Makefile
assert_status 2 env SPACK="$TEST_TMP/bin/spack" CORDON="$CORDON" "$wrapper" -o fail.json demo@1.0 -- make broken nothing
assert_file_exists fail.json
assert_status 2 "$wrapper" --bogus
