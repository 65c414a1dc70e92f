# syntax=docker/dockerfile:1
# One image for a campaign's master and its workers (docs/kubernetes.md):
#   docker build -t anef-harness:0.1.0 .
#   docker run --rm anef-harness:0.1.0 run --help
# The project is installed as docs/install.md says (a copy of the repository, the versions of
# constraints.txt) with the extras `run` and `worker` need: load (Locust) and platform (`run` needs
# it). Browser journeys (the browser extra and Chromium) are left out:
# campaigns run from this image set browser.users: 0.
# No secret is baked in: `run` reads the target's admin token from ANEF_ADMIN_TOKEN at run time (a Secret).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    MPLCONFIGDIR=/tmp/matplotlib

RUN groupadd --system --gid 10001 anef \
    && useradd --system --uid 10001 --gid anef --home-dir /home/anef --create-home --shell /usr/sbin/nologin anef

WORKDIR /opt/anef-harness

# The extras `run` and `worker` need (anef_harness/cli.py). Browser journeys would need the browser
# extra and Chromium, which this image leaves out.
ARG EXTRAS=load,platform

# The dependencies first, in their own layer: a change to the code does not reinstall them. They are
# read from pyproject.toml, base and extras, and installed at the versions of constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = [r for e in os.environ['EXTRAS'].split(',') for r in p['optional-dependencies'][e]]; \
print('\n'.join(p['dependencies'] + extras))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (.dockerignore lets in only what is listed there), installed in place: the shipped
# campaigns and SLO file are read beside the packages.
COPY README.md ./
COPY core core
COPY contracts contracts
COPY reference_platform reference_platform
COPY synthetic_users synthetic_users
COPY scenarios scenarios
COPY checks checks
COPY dashboards dashboards
COPY drills drills
COPY anef_harness anef_harness
COPY benchmarks benchmarks
COPY campaigns campaigns
COPY slos slos
RUN pip install --no-deps -c constraints.txt -e . \
    && python -m compileall -q core contracts reference_platform synthetic_users scenarios checks dashboards \
        drills anef_harness benchmarks \
    && anef-harness --version

# A worker keeps its spool in ./anef-worker unless given --folder: the user's own home is writable.
USER 10001:10001
WORKDIR /home/anef
EXPOSE 5557
ENTRYPOINT ["anef-harness"]
CMD ["--help"]
