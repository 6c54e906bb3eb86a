# packaging/deb.mk - `make deb`, included by the top-level Makefile.
#
#   make deb    build the unsigned binary package in build/deb/ and run
#               lintian on it
#   make check-systemd
#               install that package under a real systemd and test its unit
#
# The package is built from a copy of the tree in build/deb/superd-VERSION/
# with packaging/debian/ as its debian/, so that neither the work tree nor
# packaging/ gets any of dpkg-buildpackage's output.  The version is
# SUPERD_VERSION from superd/superd.h, and debian/changelog must agree.

DEB_VERSION := $(shell sed -n 's/^\#define[[:space:]]*SUPERD_VERSION[[:space:]]*"\(.*\)".*/\1/p' superd/superd.h)
DEB_OUT	 = $(BUILD)/deb
DEB_TREE = $(DEB_OUT)/superd-$(DEB_VERSION)

.PHONY: deb check-systemd
deb:
	@./packaging/install-deps deb
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	if [ "$$v" != "$(DEB_VERSION)" ]; then \
		echo "deb: packaging/debian/changelog is at $$v, superd/superd.h at $(DEB_VERSION)" >&2; \
		exit 1; fi
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_TREE)
	@# The sources as `make` sees them: in a git checkout the files git
	@# knows plus new ones it does not ignore, never build output; otherwise
	@# every top-level entry but the build directory.  packaging/ is left
	@# out: its debian/ is copied on its own.
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard \
			--exclude=__pycache__ -- . ':!packaging' | \
			xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
			xargs -0 cp --parents -t $(DEB_TREE); \
	else \
		for f in *; do case $$f in $(BUILD)|packaging) ;; *) cp -R "$$f" $(DEB_TREE)/ ;; esac; done; \
	fi
	cp -R packaging/debian $(DEB_TREE)/debian
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --display-info --info \
		$(DEB_OUT)/superd_$(DEB_VERSION)_$$(dpkg --print-architecture).changes
	@ls -l $(DEB_OUT)/*.deb

# The package installed and driven under a real systemd, booted as PID 1 of
# private namespaces over an overlay of / (tests/systemd/machine.py); a
# host that cannot boot one skips the tests, saying why.
check-systemd: deb
	tests/systemd/run $(DEB_OUT)/superd_$(DEB_VERSION)_$$(dpkg --print-architecture).deb
