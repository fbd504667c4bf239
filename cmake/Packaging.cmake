# Installation of the documentation beside the binary, and a Debian package of them.
#
# Included from the top-level CMakeLists.txt after the analyze-logs target and its install(TARGETS)
# rule:  include(cmake/Packaging.cmake)
# Then:  cmake --install build --prefix /usr/local        (binary, man page, bash/zsh/fish completions)
#        cd build && cpack -G DEB                          (analyze-logs_<version>_<arch>.deb)
#
# The package depends on the Debian 12 runtime libraries the binary links (checked with ldd:
# re2, fmt, zstd, zlib, and the C/C++ runtime) by name rather than through dpkg-shlibdeps, so that
# building it needs nothing beyond CMake; a newer Debian with other sonames (libre2-10, libfmt10)
# overrides ALOG_DEB_DEPENDS. With ALOG_STATIC_DEPS (CI's build) the binary needs only glibc: libc6.

include(GNUInstallDirs)

install(FILES ${CMAKE_CURRENT_LIST_DIR}/../docs/analyze-logs.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# bash-completion loads completions/<command> on first use of the command.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../docs/analyze-logs.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME analyze-logs)
# zsh: Debian's zsh puts vendor-completions on $fpath; fish: vendor_completions.d under every
# XDG data dir (so /usr/local/share too) is read on first use of the command.
set(ALOG_ZSH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions"
    CACHE STRING "Where the zsh completion (_analyze-logs) is installed, under the prefix")
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../docs/analyze-logs.zsh-completion
        DESTINATION ${ALOG_ZSH_COMPLETION_DIR} RENAME _analyze-logs)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../docs/analyze-logs.fish-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d RENAME analyze-logs.fish)

set(ALOG_DEB_MAINTAINER "analyze-logs maintainers <analyze-logs@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the .deb")
set(ALOG_DEB_DEPENDS ""
    CACHE STRING "Depends field of the .deb (the runtime libraries the binary links; empty: the build's default)")
set(_alog_deb_depends "${ALOG_DEB_DEPENDS}")
if(NOT _alog_deb_depends)
  if(ALOG_STATIC_DEPS)
    # Everything but glibc is linked in (CMakeLists.txt, docs/WHEEL.md).
    set(_alog_deb_depends "libc6")
  else()
    set(_alog_deb_depends "libc6, libgcc-s1, libstdc++6, libre2-9, libfmt9, libzstd1, zlib1g")
  endif()
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "analyze-logs")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "analyze-logs")
set(CPACK_PACKAGE_CONTACT "${ALOG_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# The first line of Description is the summary; CPack indents this extended part.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Reads the logs of a prime-rl RL training run (orchestrator, inference servers,
trainer), joins the halves of every weight update by trace id, computes exact
statistics, recognises the known bottlenecks and writes SUMMARY.md, report.json,
report.html and a Perfetto trace.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ALOG_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_alog_deb_depends}")
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # analyze-logs_0.1.0_amd64.deb
set(CPACK_STRIP_FILES ON)
# Only the files installed above and the binary: no test or benchmark targets are installed.
include(CPack)
