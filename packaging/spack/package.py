# Spack package recipe for cordon (packaging/spack/README.md says how to use
# it and how its dependencies were chosen; docs/spack.md how to record a
# Spack package's build with cordon).
#
# Copy this file to <repo>/packages/cordon/package.py of a Spack package
# repository (`spack repo create`, `spack repo add`).

from spack.package import *

try:  # Spack v1.0 moved the build systems into the builtin package repository.
    from spack_repo.builtin.build_systems.cmake import CMakePackage
except ImportError:  # Spack 0.x: CMakePackage comes from spack.package
    pass

# Where the project is published. The release URL pattern and each release's
# sha256 are filled in when a release is tagged (packaging/spack/README.md);
# until then `spack install cordon@main` builds the main branch.
CORDON_REPOSITORY = "https://github.com/cordon-build/cordon"


class Cordon(CMakePackage):
    """Record-and-replay dependency manifests for software builds.

    cordon runs a build under a preloaded hook that sees every file it read,
    probed for and did not find, listed, executed and wrote; writes that as a
    JSON manifest with every input hashed (XXH3-128); packs exactly those
    files as a minimal root archive; replays the build in that root under
    user namespaces or fakechroot; and reports isolation breaches (a build
    that read ~/.gitconfig, the system libpython, /usr/include/zlib.h).
    """

    homepage = CORDON_REPOSITORY
    url = CORDON_REPOSITORY + "/archive/refs/tags/v0.1.0.tar.gz"
    git = CORDON_REPOSITORY + ".git"

    version("main", branch="main")

    variant(
        "werror",
        default=False,
        description="Treat compiler warnings as errors (the project's own CI does)",
    )

    # The recorder is an LD_PRELOAD/LD_AUDIT hook for glibc and the replay
    # runners use Linux namespaces: Linux only. On macOS and the BSDs use
    # another machine's cordon to import their tracers' logs and export
    # sandbox profiles.
    requires("platform=linux", msg="cordon records and replays builds on Linux only")

    depends_on("c", type="build")
    depends_on("cmake@3.25:", type="build")
    depends_on("pkgconfig", type="build")

    # Archives are pax + zstd (and gzip for --format tar.gz).
    depends_on("libarchive@3.6: compression=zstd,zlib")
    # Manifests are JSON; inputs hashed with XXH3-128 (xxHash 0.8 made it stable).
    depends_on("jansson@2.10:")
    depends_on("xxhash@0.8:")
    # The replay runner for machines without user namespaces. cordon looks
    # for libfakechroot.so in the system's library directories, so this one
    # is found only where Spack's prefix is among them (README.md: limits).
    depends_on("fakechroot", type="run")

    # The unit tests need Criterion, which has no Spack package yet: they
    # are not built here (README.md says how to run them from a checkout).

    def cmake_args(self):
        return [
            self.define_from_variant("CORDON_WERROR", "werror"),
            self.define("CORDON_TESTS", False),
        ]

    @run_after("install")
    @on_package_attributes(run_tests=True)
    def check_installed(self):
        """The installed command runs and finds its hook library."""
        cordon = Executable(self.prefix.bin.cordon)
        cordon("--version")
