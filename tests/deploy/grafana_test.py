#!/usr/bin/env python3
"""deploy.grafana_queries_exported: the Grafana dashboard and provisioning files are well formed,
every metric any query names is exported by the real engine (read from a live /metrics), and
every query is valid PromQL that returns series from a Prometheus scraping that engine.

usage: grafana_test.py PEREGRINE_BINARY
"""
import json, os, re, signal, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAFANA = os.path.join(ROOT, "deploy", "grafana")
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
    return cond


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


# PromQL words that are not metric names; functions are recognised by the "(" after them.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "inf", "nan"}


def metric_names(expr):
    """Metric names a PromQL expression reads (Grafana variables allowed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)            # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                          # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                         # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)  # label lists
    e = re.sub(r"\$\{?\w+\}?", "", e)                        # Grafana variables
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        if re.fullmatch(r"[0-9.e+-]+", word) or (m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == ".")):
            continue  # 1e-9, 5m
        names.add(word)
    return names


def exported(metrics_text):
    """Sample names /metrics exports, histogram and summary suffixes included."""
    types, names = {}, set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    for name, kind in types.items():
        if kind == "histogram":
            names |= {name + s for s in ("_bucket", "_sum", "_count")}
        elif kind == "summary":
            names |= {name, name + "_sum", name + "_count"}
        else:
            names.add(name)
    return names, types


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    binary = os.path.abspath(sys.argv[1])

    # ---- the files ----
    dash = json.load(open(os.path.join(GRAFANA, "dashboards", "peregrine.json")))
    expect(dash.get("uid") and dash.get("title") and isinstance(dash.get("panels"), list) and dash["panels"], "dashboard has uid, title, panels")
    ids = [p.get("id") for p in dash["panels"]]
    expect(len(ids) == len(set(ids)), f"panel ids are unique: {ids}")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    expect(variables.get("datasource", {}).get("type") == "datasource", "a datasource variable")
    queries = []  # (where, expr)
    for p in dash["panels"]:
        expect(p.get("datasource", {}).get("uid") == "${datasource}", f"panel {p['title']!r} uses the datasource variable")
        expect("gridPos" in p and p.get("targets"), f"panel {p['title']!r} has gridPos and targets")
        for t in p.get("targets", []):
            expect(t.get("expr"), f"panel {p['title']!r} target {t.get('refId')} has an expr")
            queries.append((f"panel {p['title']!r} {t.get('refId')}", t["expr"]))
    for name, v in variables.items():
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
            expect(m, f"variable {name}: label_values(...) query")
            if m:
                queries.append((f"variable {name}", m.group(1)))
    prov = yaml.safe_load(open(os.path.join(GRAFANA, "provisioning", "dashboards", "peregrine.yaml")))
    expect(prov.get("apiVersion") == 1 and prov["providers"][0]["type"] == "file" and prov["providers"][0]["options"]["path"],
           "dashboard provider: apiVersion 1, type file, a path")
    ds = yaml.safe_load(open(os.path.join(GRAFANA, "provisioning", "datasources", "prometheus.yaml")))
    expect(ds.get("apiVersion") == 1 and ds["datasources"][0]["type"] == "prometheus" and ds["datasources"][0]["url"],
           "datasource: apiVersion 1, type prometheus, a url")

    # ---- a live engine ----
    with tempfile.TemporaryDirectory() as tmp:
        # The demo configuration, with replication (a leader without a standby) and the drop copy
        # (to a broker that is not there: it retries, trading goes on) so that their panels have
        # series too.
        cfg_dir = os.path.join(ROOT, "config")
        demo = open(os.path.join(cfg_dir, "demo.yaml")).read()
        for name in ("demo-credentials.txt", "demo-admin-token.txt"):
            expect(name in demo, f"config/demo.yaml names {name}")
            demo = demo.replace(name, os.path.join(cfg_dir, name))
        open(os.path.join(tmp, "dc-password"), "w").write("unused\n")
        engine_cfg = os.path.join(tmp, "engine.yaml")
        with open(engine_cfg, "w") as f:
            f.write(demo + "\nha: {role: leader, listen: \"127.0.0.1:0\"}\n"
                    f"dropcopy: {{url: \"amqp://peregrine@127.0.0.1:1/\", password_file: \"{tmp}/dc-password\"}}\n")
        eng = subprocess.Popen([binary, "--config", engine_cfg, "--ouch-listen", "127.0.0.1:0",
                                "--itch-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                                "--journal-dir", os.path.join(tmp, "journal")],
                               stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "engine.log"), "w"), text=True)
        prom = None
        try:
            line = eng.stdout.readline()
            m = re.search(r"HTTP [\d.]+:(\d+)", line)
            if not m:
                print(f"FAIL: no ready line from the engine: {line!r}")
                sys.exit(1)
            http = int(m.group(1))
            names, types = exported(get(f"http://127.0.0.1:{http}/metrics"))
            print(f"live /metrics: {len(types)} families")
            used = set()
            for where, q in queries:
                for n in metric_names(q):
                    used.add(n)
                    # `up` is Prometheus' own series for every target.
                    expect(n == "up" or n in names, f"{where}: metric {n} is not exported by the engine ({q})")
            print(f"queries: {len(queries)}, metrics named: {sorted(used)}")
            expect(len(used) >= 10, "the dashboard names the engine's metrics")

            # ---- every query evaluates, and returns series, in a Prometheus scraping the engine ----
            port = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [{
                    "job_name": "peregrine", "static_configs": [{"targets": [f"127.0.0.1:{http}"],
                                                                 "labels": {"namespace": "peregrine", "pod": "trading-service-0"}}]}]}, f)
            prom = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/tsdb",
                                     f"--web.listen-address=127.0.0.1:{port}"],
                                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
            api = f"http://127.0.0.1:{port}/api/v1/query?query="

            def query(q):
                return json.loads(get(api + urllib.parse.quote(q)))

            # Up, and at least three scrapes, so that rate() over the range has samples.
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    r = query('count_over_time(up{job="peregrine"}[1m])')
                    if r["data"]["result"] and float(r["data"]["result"][0]["value"][1]) >= 3:
                        break
                except (OSError, ValueError, KeyError):
                    pass
                time.sleep(0.5)
            else:
                print("FAIL: Prometheus did not scrape the engine three times in 30 s")
                print(open(os.path.join(tmp, "prometheus.log")).read()[-2000:])
                sys.exit(1)
            subst = {"$__rate_interval": "1m", "${datasource}": "", "$namespace": ".*", "$pod": ".*"}
            for where, q in queries:
                qq = q
                for k, v in subst.items():
                    qq = qq.replace(k, v)
                try:
                    r = query(qq)
                except urllib.error.HTTPError as e:
                    expect(False, f"{where}: Prometheus refused the query: {e.read().decode()} ({qq})")
                    continue
                expect(r.get("status") == "success", f"{where}: {r}")
                # "> 0" filters rejects to reasons that happened; with no traffic that is empty.
                if not qq.rstrip().endswith("> 0"):
                    expect(r["data"]["result"], f"{where}: no series from a live engine ({qq})")
        finally:
            for p in (prom, eng):
                if p and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
    for f in failures:
        print("FAIL", f)
    if failures:
        sys.exit(1)
    print(f"{len(queries)} queries checked against a live engine and Prometheus")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
