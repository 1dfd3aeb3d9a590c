#!/usr/bin/env python3
"""deploy.image_build_run_drain: build the engine image (scripts/image), run it the way an
operator would (read-only root filesystem, unprivileged, published ports on 127.0.0.1 picked by
Docker), wait for /readyz, send an order through the published OUCH port, stop it with
`docker stop`, and check that it drained: the open session got End of Session, the process
exited 0 after logging "draining" and "stopped".

usage: tests/deploy/image_test.py [--tag TAG] [--no-build] [--json FILE]
--json writes the measured image size and start -> ready time (for scripts/image-bench).
"""
import argparse, json, os, socket, struct, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def docker(*args, check=True, capture=True):
    r = subprocess.run(["docker", *args], text=True, capture_output=capture)
    if check and r.returncode != 0:
        fail(f"docker {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout.strip() if capture else ""


def http_get(port, path, timeout=1.0):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def packet(kind, payload=b""):
    return struct.pack(">H", len(payload) + 1) + kind + payload


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def next(self, timeout):
        """The next SoupBinTCP packet (type byte + payload), b"" at EOF, None on time-out."""
        end = time.time() + timeout
        while True:
            if len(self.buf) >= 2:
                n = struct.unpack(">H", self.buf[:2])[0]
                if len(self.buf) >= 2 + n:
                    p, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                    return p
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                return b""
            self.buf += data

    def next_non_heartbeat(self, timeout):
        end = time.time() + timeout
        while True:
            p = self.next(max(0.0, end - time.time()))
            if p is None or p == b"" or p[:1] != b"H":
                return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", default="peregrine:ctest")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()

    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        fail("the Docker engine is not reachable (this machine kind provides it; is dockerd running?)")
    if not a.no_build:
        t = time.time()
        r = subprocess.run([os.path.join(ROOT, "scripts", "image"), a.tag], cwd=ROOT)
        if r.returncode != 0:
            fail(f"scripts/image {a.tag} failed (exit {r.returncode})")
        print(f"image built in {time.time() - t:.1f} s", flush=True)

    # The image's own configuration: unprivileged, SIGTERM, a health check, a state volume.
    cfg = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", a.tag))
    size = int(docker("image", "inspect", "-f", "{{.Size}}", a.tag))
    if cfg.get("User") != "10001:10001":
        fail(f"image user is {cfg.get('User')!r}, not 10001:10001")
    if cfg.get("StopSignal") != "SIGTERM":
        fail(f"image StopSignal is {cfg.get('StopSignal')!r}")
    if "/healthz" not in " ".join((cfg.get("Healthcheck") or {}).get("Test") or []):
        fail(f"image health check does not ask /healthz: {cfg.get('Healthcheck')}")
    if "/var/lib/peregrine" not in (cfg.get("Volumes") or {}):
        fail(f"image has no /var/lib/peregrine volume: {cfg.get('Volumes')}")
    # The runtime stage has the binary and its libraries, no toolchain.
    tools = docker("run", "--rm", "--entrypoint", "bash", a.tag, "-c",
                   "for t in g++ gcc cc c++ cmake ninja make ld as; do command -v $t; done; true")
    if tools:
        fail(f"build tools in the runtime image: {tools.split()}")

    name = f"peregrine-ctest-{os.getpid()}"
    t0 = time.monotonic()
    docker("run", "-d", "--name", name, "--read-only", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", "--health-interval", "1s",
           "-p", "127.0.0.1::9001", "-p", "127.0.0.1::8080", a.tag)
    try:
        def host_port(p):
            out = docker("port", name, f"{p}/tcp")
            return int(out.splitlines()[0].rsplit(":", 1)[1])
        http, ouch = host_port(8080), host_port(9001)
        ready_s = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, body = http_get(http, "/readyz")
            if status == 200:
                ready_s = time.monotonic() - t0
                break
            state = docker("inspect", "-f", "{{.State.Status}}", name)
            if state not in ("created", "running"):
                fail(f"container {state} before ready; logs:\n{docker('logs', name, check=False)}")
            time.sleep(0.02)
        if ready_s is None:
            fail(f"/readyz not 200 within 30 s; logs:\n{docker('logs', name, check=False)}")
        print(f"container start -> /readyz 200: {ready_s * 1000:.0f} ms (HTTP on 127.0.0.1:{http}, OUCH on {ouch})", flush=True)
        out = docker("logs", name)
        if "peregrine: ready:" not in out:
            fail(f"no ready line on stdout: {out!r}")
        status, body = http_get(http, "/healthz")
        if status != 200:
            fail(f"/healthz answered {status}")
        # On asio ingress the engine maps none of DPDK's libraries (peregrine-dpdk.so is loaded
        # only for --ingress=dpdk, docs/dpdk.md).
        maps = docker("exec", name, "cat", "/proc/1/maps")
        if "librte_" in maps or "peregrine-dpdk.so" in maps:
            fail("the asio engine mapped DPDK: " + ", ".join(sorted({l.split()[-1] for l in maps.splitlines() if "rte" in l or "dpdk" in l})))

        # Docker's own HEALTHCHECK (bash /dev/tcp -> /healthz) must report healthy.
        deadline = time.monotonic() + 20
        health = ""
        while time.monotonic() < deadline:
            health = docker("inspect", "-f", "{{.State.Health.Status}}", name)
            if health == "healthy":
                break
            time.sleep(0.2)
        if health != "healthy":
            fail(f"docker health is {health!r}: {docker('inspect', '-f', '{{json .State.Health}}', name)}")

        # One order through the published port, as DEMO1 (config/demo-credentials.txt).
        sock = socket.create_connection(("127.0.0.1", ouch), timeout=5)
        rd = Reader(sock)
        sock.sendall(packet(b"L", b"DEMO1 " + b"demo1pass ".ljust(10) + b" " * 10 + b"0".rjust(20)))
        p = rd.next_non_heartbeat(5)
        if not p or p[:1] != b"A":
            fail(f"login not accepted: {p!r}")
        token = b"CTEST1".ljust(14)
        order = (b"O" + token + b"B" + struct.pack(">I", 100) + b"600519".ljust(8) + struct.pack(">I", 17000000)
                 + struct.pack(">I", 99998) + b"    " + b"Y" + b"A" + b"N" + struct.pack(">I", 0) + b"N" + b" ")
        sock.sendall(packet(b"U", order))
        p = rd.next_non_heartbeat(5)
        if not p or p[:2] != b"SA" or p[2 + 8:2 + 8 + 14] != token:
            fail(f"no Accepted for the order: {p!r}")
        print("order accepted through the published OUCH port", flush=True)
        status, metrics = http_get(http, "/metrics")
        if status != 200 or "peregrine_core_accepted_total 1" not in metrics:
            fail("/metrics does not count the accepted order")

        # docker stop: SIGTERM (the image's STOPSIGNAL), 10 s before SIGKILL.
        t1 = time.monotonic()
        docker("stop", "-t", "10", name)
        stop_s = time.monotonic() - t1
        got_end = False
        while True:
            p = rd.next(5)
            if p is None or p == b"":
                break
            if p[:1] == b"Z":
                got_end = True
        sock.close()
        if not got_end:
            fail("the open OUCH session did not get End of Session ('Z') on docker stop")
        code = docker("inspect", "-f", "{{.State.ExitCode}}", name)
        logs = docker("logs", name)
        logs += subprocess.run(["docker", "logs", name], text=True, capture_output=True).stderr
        if code != "0":
            fail(f"exit code {code} after docker stop (137 = killed: the shut-down did not finish); logs:\n{logs}")
        for want in ("draining", "stopped"):
            if want not in logs:
                fail(f"no {want!r} in the logs:\n{logs}")
        print(f"docker stop -> exit 0 in {stop_s * 1000:.0f} ms; session got End of Session; logs say draining, stopped", flush=True)
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)

    # The image's DPDK module and drivers: --ingress=dpdk on a virtual port (net_ring0), unprivileged.
    # EAL's runtime directory goes to /tmp, the one writable place.
    dname = f"peregrine-ctest-dpdk-{os.getpid()}"
    docker("run", "-d", "--name", dname, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", a.tag, "--config", "/usr/share/peregrine/demo/demo.yaml",
           "--ingress", "dpdk", "--eal-args",
           "--no-huge --no-pci -m 256 -l 0 --no-shconf --log-level error --vdev net_ring0")
    try:
        deadline = time.monotonic() + 30
        logs = ""
        while time.monotonic() < deadline:
            logs = docker("logs", dname, check=False)
            if "peregrine: ready:" in logs:
                break
            if docker("inspect", "-f", "{{.State.Status}}", dname) not in ("created", "running"):
                break
            time.sleep(0.05)
        err = subprocess.run(["docker", "logs", dname], text=True, capture_output=True).stderr
        if "peregrine: ready:" not in logs or "on net_ring0" not in logs:
            fail(f"no ready line with the DPDK port from --ingress=dpdk; logs:\n{logs}{err}")
        maps = docker("exec", dname, "cat", "/proc/1/maps")
        if "/usr/local/bin/peregrine-dpdk.so" not in maps or "librte_eal" not in maps:
            fail("--ingress=dpdk did not map /usr/local/bin/peregrine-dpdk.so and librte_eal")
        docker("stop", "-t", "10", dname)
        code = docker("inspect", "-f", "{{.State.ExitCode}}", dname)
        if code != "0":
            fail(f"the DPDK engine exited {code} on docker stop; logs:\n{docker('logs', dname, check=False)}")
        print("--ingress=dpdk on net_ring0: ready, the module and EAL mapped, exit 0 on docker stop", flush=True)
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", dname], capture_output=True)

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"image_bytes": size, "start_to_ready_s": ready_s, "stop_s": stop_s}, f)
    print(f"image {a.tag}: {size / 1e6:.1f} MB")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
