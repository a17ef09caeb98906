"""JupyterHub configuration for the lossbook course on one server (a workshop or a class).

Started by ``lossbook hub`` (``make hub``), which sets the variables below; you can also run
``jupyterhub -f deploy/jupyterhub_config.py`` yourself with them set.

What each learner gets (``lossbook.hub``): a home folder of their own under the homes
folder, laid out like the course after ``make lab``: ``notebooks/`` (the lessons, read-only),
``exercises/`` (the released copies, read-only), ``workspace/`` (their own copies of the
exercises: copied on first start, never overwritten, new exercises added after a course
update), their own progress store (``.lossbook-progress/``), and JupyterLab opening on
lesson 00 with the course's lab settings.

Authentication: one shared password for every learner (JupyterHub's
``SharedPasswordAuthenticator``, the successor of the ``DummyAuthenticator`` password).
Anyone with the password can log in under any name, including another learner's: fine
for a workshop room, not for a graded class. docs/instructor.md lists the real ones.

Spawner: ``SimpleLocalProcessSpawner``: every learner's server runs as the user running
the hub (root in CI) with its own home folder, **no per-user operating-system isolation**:
a learner's code can read and change another learner's files. For a graded class use a
spawner that isolates (TLJH's ``SystemdSpawner``, ``KubeSpawner``; docs/instructor.md).

Variables (``lossbook hub`` sets them from its options):

``LOSSBOOK_COURSE``             the course folder (default: the folder above deploy/)
``LOSSBOOK_HUB_STATE``          the hub's database, cookie secret and log (default COURSE/.lossbook-hub)
``LOSSBOOK_HUB_HOMES``          where learners' homes are made (default STATE/homes)
``LOSSBOOK_HUB_IP``, ``LOSSBOOK_HUB_PORT``   the public address (default 127.0.0.1:8000)
``LOSSBOOK_HUB_INTERNAL_PORT``  the hub's own port (default 8081)
``LOSSBOOK_HUB_PROXY_API_PORT`` the proxy's REST API port (default 8001)
``LOSSBOOK_HUB_PASSWORD``       the learners' shared password (8 characters or more; required)
``LOSSBOOK_HUB_PROXY``          configurable-http-proxy (default deploy/proxy/node_modules/.bin/…)
"""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("LOSSBOOK_COURSE") or HERE.parent).resolve()
STATE = Path(os.environ.get("LOSSBOOK_HUB_STATE") or COURSE / ".lossbook-hub").resolve()
HOMES = Path(os.environ.get("LOSSBOOK_HUB_HOMES") or STATE / "homes").resolve()
PROXY = os.environ.get("LOSSBOOK_HUB_PROXY") or str(
    HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
PASSWORD = os.environ.get("LOSSBOOK_HUB_PASSWORD")
if not PASSWORD:
    raise SystemExit("deploy/jupyterhub_config.py: set LOSSBOOK_HUB_PASSWORD to the learners' "
                     "shared password (8 characters or more), or start the hub with `lossbook hub`")
for folder in (STATE, HOMES):
    folder.mkdir(parents=True, exist_ok=True)

# --- where the hub listens; its database and secrets live in STATE
c.JupyterHub.ip = os.environ.get("LOSSBOOK_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("LOSSBOOK_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("LOSSBOOK_HUB_INTERNAL_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# Stopping the hub stops every learner's server and the proxy it started (the defaults, said aloud).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- the proxy: configurable-http-proxy from npm, installed into deploy/proxy/ by `make hub`
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('LOSSBOOK_HUB_PROXY_API_PORT', '8001'))}"
c.ConfigurableHTTPProxy.should_start = True

# --- who may log in: anyone with the shared password, under a plain name (it becomes a folder)
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = PASSWORD
c.Authenticator.allow_all = True
c.Authenticator.username_pattern = r"^[a-z0-9][a-z0-9_.-]{0,31}$"

# --- each learner's server: a home folder of their own, the course laid out in it
c.JupyterHub.spawner_class = "simple"   # SimpleLocalProcessSpawner (no Unix accounts)
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
# lossbook.hub.singleuser prepares the home as the learner, then runs jupyterhub-singleuser.
c.Spawner.cmd = [sys.executable, "-m", "lossbook.hub.singleuser"]
c.Spawner.args = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
c.Spawner.default_url = "/lab/tree/notebooks/00_welcome.ipynb"
c.Spawner.environment = {"LOSSBOOK_COURSE": str(COURSE)}
# LOSSBOOK_HUB_SESSION tags every process of this hub (servers, kernels), so that
# `lossbook hub` can check that nothing outlives it.
c.SimpleLocalProcessSpawner.env_keep = [
    "CONDA_DEFAULT_ENV", "CONDA_ROOT", "JUPYTERHUB_SINGLEUSER_APP", "LANG", "LC_ALL",
    "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "VIRTUAL_ENV",   # LocalProcessSpawner's defaults
    "LOSSBOOK_HUB_SESSION",
]
# A first start installs nothing, but a loaded machine can be slow to start JupyterLab.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
