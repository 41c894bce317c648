"""`make cluster`: FreshChain on this machine as the deployment runs it, in separate processes
that talk only over the network. nginx on 8080 (deploy/nginx/freshchain.conf) in front of two
uvicorn processes on 8081 and 8082, PgBouncer on 6432 in transaction mode
(deploy/pgbouncer/pgbouncer.ini) in front of PostgreSQL, a Celery worker for the `realtime`
queue, one for `batch`, and one beat; the web and worker commands are the ExecStart lines of
deploy/systemd/, their environment deploy/freshchain.env.example with this machine's values.
Everything runs as the calling user, with its files under var/cluster/ (pids/, logs/).

    python scripts/cluster.py run     # prepare, start, print the sign-ins; Ctrl-C stops it all
    python scripts/cluster.py start   # prepare and start in the background (make cluster-test)
    python scripts/cluster.py up      # start whichever process is not running, and wait for it
    python scripts/cluster.py stop    # stop them all (make cluster-stop)
    python scripts/cluster.py status
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
DEPLOY = BASE_DIR / "deploy"
VAR = BASE_DIR / "var" / "cluster"
PIDS = VAR / "pids"
LOGS = VAR / "logs"
BIN = BASE_DIR / ".venv" / "bin"

HOST = "127.0.0.1"
NGINX_PORT = 8080
WEB_PORTS = {"web1": 8081, "web2": 8082}
PGBOUNCER_PORT = 6432
DATABASE = os.environ.get("CLUSTER_DATABASE", "fc_clusterdemo")
OWNER, OWNER_PASSWORD = "freshchain", "freshchain"  # the roles scripts/services.sh makes
APP_ROLE, APP_PASSWORD = "freshchain_app", "freshchain_app"
REDIS_URL = "redis://127.0.0.1:6379/2"
METRICS_TOKEN = "cluster-metrics-token"
URL = f"http://{HOST}:{NGINX_PORT}"

# Start order; stopped in reverse.
NAMES = ("pgbouncer", "web1", "web2", "worker-realtime", "worker-batch", "beat", "nginx")
UNITS = {
    "web1": "freshchain-web@.service",
    "web2": "freshchain-web@.service",
    "worker-realtime": "freshchain-worker-realtime.service",
    "worker-batch": "freshchain-worker-batch.service",
    "beat": "freshchain-beat.service",
}
# What each process's command line holds, so a pid reused by something else is not "running".
SIGNATURES = {"pgbouncer": "pgbouncer", "nginx": "nginx", "beat": "beat"} | {
    name: name.split("-")[-1] if name.startswith("worker") else "uvicorn"
    for name in ("web1", "web2", "worker-realtime", "worker-batch")
}


def say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


# --- The environment: deploy/freshchain.env.example with this machine's values --------------


def environment_file(path: Path) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile= reads them (comments on their own lines)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def app_environment() -> dict[str, str]:
    deployed = environment_file(DEPLOY / "freshchain.env.example")
    # Files that live in /etc on a server: given directly here.
    deployed.pop("DJANGO_SECRET_KEY_FILE")
    deployed.pop("METRICS_TOKEN_FILE")
    local = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "cluster-demo-only-" + "0123456789abcdef" * 4,
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": URL,
        "SITE_URL": URL,
        # Plain HTTP on this machine: no TLS in front (production: nginx ends TLS).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_HSTS_SECONDS": "0",
        "DJANGO_STATIC_ROOT": str(VAR / "static"),
        "DJANGO_MEDIA_ROOT": str(VAR / "media"),
        "DJANGO_PRIVATE_MEDIA_ROOT": str(VAR / "private"),
        "LOG_FORMAT": "text",
        "DATABASE_URL": f"postgis://{APP_ROLE}:{APP_PASSWORD}@{HOST}:{PGBOUNCER_PORT}/{DATABASE}",
        "DATABASE_OWNER_URL": f"postgis://{OWNER}:{OWNER_PASSWORD}@{HOST}:5432/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        # Above the offers' countdown (DELIVERY_OFFER_SECONDS 45), short enough that a task
        # whose worker was killed is handed out again within the test's patience.
        "CELERY_VISIBILITY_TIMEOUT": "60",
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(VAR / "metrics"),
        "WEB_HOST": HOST,
        "FORWARDED_ALLOW_IPS": HOST,
        "CELERY_REALTIME_CONCURRENCY": "2",
        "CELERY_BATCH_CONCURRENCY": "1",
        "BACKUP_DIR": str(VAR / "backups"),
        "SMS_OUTBOX_PATH": str(VAR / "sms-outbox.log"),
    }
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return {**keep, **deployed, **local, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def manage(*args: str, **overrides: str) -> None:
    env = {**app_environment(), **overrides}
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


# --- Rendering deploy/ for this machine -------------------------------------------------------


def unit_command(unit: str, *, instance: str, env: dict[str, str]) -> list[str]:
    """A unit's ExecStart, as systemd would run it: %i, %%H and ${NAME} filled in."""
    text = (DEPLOY / "systemd" / unit).read_text().replace("\\\n", " ")
    [line] = [each for each in text.splitlines() if each.startswith("ExecStart=")]
    line = line.removeprefix("ExecStart=").replace("%%H", "cluster").replace("%i", instance)
    line = re.sub(r"\$\{(\w+)\}", lambda match: env[match.group(1)], line)
    line = line.replace("/srv/freshchain", str(BASE_DIR)).replace("/var/lib/freshchain", str(VAR))
    return line.split()


def render_nginx() -> Path:
    site = (DEPLOY / "nginx" / "freshchain.conf").read_text()
    site = re.sub(
        r"# --- https redirect \(begin\) ---.*# --- https redirect \(end\) ---\n", "", site,
        flags=re.S,
    )  # fmt: skip
    servers = "".join(
        f"    server {HOST}:{port} max_fails=1 fail_timeout=5s;\n" for port in WEB_PORTS.values()
    )
    site = re.sub(r"(upstream freshchain_web \{\n)(    server .*\n)+", rf"\g<1>{servers}", site)
    site = re.sub(r"\n\s*listen \[::\]:443.*", "", site)
    site = re.sub(r"\n\s*ssl_.*", "", site)
    site = re.sub(r"listen 443 ssl http2;", f"listen {HOST}:{NGINX_PORT};", site)
    site = site.replace("server_name freshchain.example.cn;", f"server_name {HOST} localhost;")
    site = site.replace("/var/log/nginx/", f"{LOGS}/nginx-")
    for folder in ("static", "media", "private"):
        site = site.replace(f"/srv/freshchain/var/{folder}/", f"{VAR / folder}/")
    site = site.replace("/srv/freshchain/deploy/", f"{DEPLOY}/")
    (VAR / "nginx" / "freshchain.conf").write_text(site)
    temp = VAR / "nginx" / "tmp"
    # As root, nginx's workers run as nobody: they need the temp folders.
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    main = f"""# Rendered by scripts/cluster.py; the site is deploy/nginx/freshchain.conf.
{user}daemon off;
worker_processes 2;
pid {VAR}/nginx/nginx.pid;
error_log {LOGS}/nginx-error.log notice;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {VAR}/nginx/freshchain.conf;
}}
"""
    conf = VAR / "nginx" / "nginx.conf"
    conf.write_text(main)
    temp.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(temp, "nobody", "nogroup")
    return conf


def render_pgbouncer() -> Path:
    folder = VAR / "pgbouncer"
    ini = (DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text()
    ini = re.sub(
        r"^freshchain = .*$", f"{DATABASE} = host={HOST} port=5432 dbname={DATABASE}", ini,
        flags=re.M,
    )  # fmt: skip
    ini = re.sub(r"^auth_file = .*$", f"auth_file = {folder}/userlist.txt", ini, flags=re.M)
    # In the foreground: it logs to its stderr (var/cluster/logs/) and scripts/cluster.py
    # keeps the pid.
    ini = re.sub(r"^(logfile|pidfile) = .*$", r"\1 =", ini, flags=re.M)
    ini = re.sub(r"^listen_port = .*$", f"listen_port = {PGBOUNCER_PORT}", ini, flags=re.M)
    (folder / "pgbouncer.ini").write_text(ini)
    # The application's role only; a plain password PgBouncer also logs in to PostgreSQL with.
    userlist = folder / "userlist.txt"
    userlist.write_text(f'"{APP_ROLE}" "{APP_PASSWORD}"\n')
    if os.geteuid() == 0:  # read by PgBouncer running as postgres (below)
        shutil.chown(userlist, "root", "postgres")
    userlist.chmod(0o640)
    return folder / "pgbouncer.ini"


def commands() -> dict[str, list[str]]:
    env = app_environment()
    pgbouncer = ["pgbouncer", str(VAR / "pgbouncer" / "pgbouncer.ini")]
    if os.geteuid() == 0:
        pgbouncer[1:1] = ["-u", "postgres"]  # PgBouncer refuses to run as root
    found = {
        "pgbouncer": pgbouncer,
        "nginx": ["nginx", "-p", str(VAR / "nginx"), "-c", str(VAR / "nginx" / "nginx.conf")],
    }
    for name, unit in UNITS.items():
        found[name] = unit_command(unit, instance=str(WEB_PORTS.get(name, "")), env=env)
    return found


# --- Processes --------------------------------------------------------------------------------


def pid_of(name: str) -> int | None:
    """The pid of a running process of ours by that name, else None."""
    try:
        pid = int((PIDS / f"{name}.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if SIGNATURES[name] in cmdline else None


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def ready(name: str) -> bool:
    if name == "pgbouncer":
        return listening(PGBOUNCER_PORT)
    if name == "nginx":
        return answers(f"{URL}/sign-in/")
    if name in WEB_PORTS:
        return answers(f"http://{HOST}:{WEB_PORTS[name]}/sign-in/")
    log = (LOGS / f"{name}.log").read_text(errors="replace")
    started = log.rfind(f"=== {name} started")
    return "beat: Starting" in log[started:] or " ready." in log[started:]


def start(name: str) -> None:
    """Start one process in a session of its own (so a kill reaches its children), and wait
    until it serves."""
    command = commands()[name]
    log = (LOGS / f"{name}.log").open("a")
    log.write(f"=== {name} started {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    log.flush()
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=app_environment(), stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    (PIDS / f"{name}.pid").write_text(f"{process.pid}\n")
    deadline = time.monotonic() + 90
    while not ready(name):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"cluster: {name} did not start; see {LOGS / name}.log")
        time.sleep(0.3)
    say(f"{name} is up (pid {process.pid})")


def up() -> None:
    for name in NAMES:
        if pid_of(name) is None:
            start(name)


def stop() -> None:
    for name in reversed(NAMES):
        pid = pid_of(name)
        if pid is not None:
            signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                reap(pid)
                time.sleep(0.2)
            signal_group(pid, signal.SIGKILL)
            say(f"{name} stopped")
        (PIDS / f"{name}.pid").unlink(missing_ok=True)


def signal_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, number)


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# --- Preparing: database, demo, static files --------------------------------------------------


def prepare() -> None:
    for folder in (PIDS, LOGS, VAR / "nginx", VAR / "pgbouncer", VAR / "media", VAR / "private"):
        folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["scripts/services.sh", "--cluster"], cwd=BASE_DIR, check=True,
        env={**os.environ, "FRESHCHAIN_DB_NAME": DATABASE},
    )  # fmt: skip
    busy = [port for port in (NGINX_PORT, PGBOUNCER_PORT, *WEB_PORTS.values()) if listening(port)]
    if busy and all(pid_of(name) is None for name in NAMES):
        sys.exit(f"cluster: ports {busy} are taken by something else; free them first")
    render_pgbouncer()
    nginx_conf = render_nginx()
    subprocess.run(["nginx", "-t", "-q", "-p", str(VAR / "nginx"), "-c", str(nginx_conf)],
                   check=True)  # fmt: skip
    owner_url = app_environment()["DATABASE_OWNER_URL"]
    say(f"migrating {DATABASE} (as its owner, straight to PostgreSQL)")
    manage("migrate", "--noinput", "--verbosity", "0", DATABASE_URL=owner_url,
           DATABASE_PGBOUNCER="false")  # fmt: skip
    manage("collectstatic", "--noinput", "--verbosity", "0")
    # The metrics folder is emptied once, before any process of the cluster starts
    # (deploy/systemd/freshchain-metrics.service does the same on a server).
    if all(pid_of(name) is None for name in NAMES):
        shutil.rmtree(VAR / "metrics", ignore_errors=True)
        (VAR / "metrics").mkdir()
    if pid_of("pgbouncer") is None:
        start("pgbouncer")
    say("loading the demo (through PgBouncer)")
    # seed_demo refuses production settings (the demo password is public): DEBUG for it alone.
    manage("seed_demo", DJANGO_DEBUG="true")


def status() -> int:
    down = [name for name in NAMES if pid_of(name) is None]
    for name in NAMES:
        pid = pid_of(name)
        print(f"{name:16} {'pid ' + str(pid) if pid else 'down'}")
    return 1 if down else 0


def main(action: str) -> int:
    if action == "stop":
        stop()
        return 0
    if action == "status":
        return status()
    if action == "up":
        up()
        return 0
    prepare()
    up()
    print(f"\nFreshChain's cluster is at {URL}/ (nginx → web1 :8081, web2 :8082; PgBouncer :6432;")
    print(f"database {DATABASE}; Redis db 2). Pids in {PIDS}, logs in {LOGS}.")
    if action == "start":
        return 0
    print("Ctrl-C stops every process of the cluster.\n")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in {"run", "start", "up", "stop", "status"}:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
