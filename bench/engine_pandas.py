"""pandas twin of bench/engine.ts (analysis.md §9): the same generated data and operations.

Usage: /usr/bin/python3 bench/engine_pandas.py <p1.xlsx> <p1_cp932.csv> [--case P2]
Prints one JSON list of {case, medianMs, p95Ms, peakRssMb, baselineRssMb, absPeakRssMb, check}
(each case in its own process); peakRssMb = VmHWM at the end − VmRSS at the start of the case.
"""
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

YEARS = [str(2015 + i) for i in range(10)]
REGIONS = [f"地域{i + 1:02d}" for i in range(50)]
PRODUCTS = [f"製品{i + 1:03d}" for i in range(200)]
SUBJECTS = ["売上", "原価", "数量", "販管費", "人件費", "広告費", "在庫", "返品", "客数", "単価"]


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def replay_frame():
    rand = mulberry32(42)
    n = 10 * 50 * 200 * 10
    values = np.fromiter((np.floor(rand() * 10000) for _ in range(n)), dtype=np.float64, count=n)
    idx = np.arange(n)
    return pd.DataFrame(
        {
            "年度": pd.Categorical.from_codes(idx // 100000, YEARS),
            "地域": pd.Categorical.from_codes((idx // 2000) % 50, REGIONS),
            "製品": pd.Categorical.from_codes((idx // 10) % 200, PRODUCTS),
            "科目": pd.Categorical.from_codes(idx % 10, SUBJECTS),
            "値": values,
        }
    )


def split_melt(grid):
    """§1.4 on a header=None frame: header block, separator, data block, melt, checks."""
    empty = grid.isna().all(axis=1)
    sep = int(np.argmax(empty.values))
    header = grid.iloc[:sep]
    names = header.iloc[:, 0].astype(str).tolist()
    assert len(set(names)) == len(names) and "科目" not in names and "値" not in names
    data = grid.iloc[sep + 1 :].dropna(how="all")
    data = data.set_index(0)
    data.index.name = "科目"
    cols = pd.MultiIndex.from_arrays(
        [header.iloc[h, 1:].map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).values for h in range(sep)],
        names=names,
    )
    data.columns = cols
    long = data.stack(list(range(sep))).reset_index(name="値")
    long = long[names + ["科目", "値"]]
    long["値"] = pd.to_numeric(long["値"])
    assert not long.duplicated(names + ["科目"]).any()
    return long


def p2(df):
    s1 = df[df["科目"].isin(["売上", "原価", "数量"]) & ~df["地域"].isin(REGIONS[:5])]
    keys = ["年度", "地域", "製品"]
    piv = s1[s1["科目"].isin(["売上", "原価"])].pivot(index=keys, columns="科目", values="値")
    add = (piv["売上"] - piv["原価"]).rename("値").reset_index()
    add["科目"] = "粗利"
    s2 = pd.concat([s1, add[keys + ["科目", "値"]]], ignore_index=True)
    sub = s2[s2["科目"].isin(["売上", "原価", "粗利"])]
    g = sub.groupby(["年度", "地域", "科目"], sort=False, observed=True)["値"].sum().unstack("科目")
    g = g.rename(columns={"売上": "売上計", "原価": "原価計", "粗利": "粗利計"})
    g["粗利率"] = g["粗利計"] / g["売上計"].replace(0, np.nan)
    s3 = g[["売上計", "原価計", "粗利計", "粗利率"]].stack().rename("値").reset_index()
    s3.columns = ["年度", "地域", "科目", "値"]
    s4 = s3[s3["科目"] == "粗利計"].nlargest(100, "値", keep="first").sort_index()
    s5 = s2.merge(s4[["年度", "地域"]].drop_duplicates(), on=["年度", "地域"], how="inner")
    v = s4["値"]
    formulas = [float(v.sum()), float(v.mean()), int(v.count())]
    chart = s4.pivot(index="地域", columns="年度", values="値")
    figure = {"data": [{"type": "bar", "name": str(c), "x": list(map(str, chart.index)), "y": chart[c].tolist()} for c in chart.columns]}
    return {"s5Rows": len(s5), "formulas": formulas, "traces": len(figure["data"])}


def proc_kb(field):
    """VmRSS / VmHWM in kB, read the same way as bench/engine.ts does for Bun."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(name, setup):
    base = proc_kb("VmRSS")
    fn = setup()
    check = fn()
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        check = fn()
        runs.append((time.perf_counter() - t) * 1000)
    s = sorted(runs)
    peak = proc_kb("VmHWM")
    return {
        "case": name,
        "medianMs": round(statistics.median(runs), 1),
        "p95Ms": round(s[4], 1),
        "runsMs": [round(r, 1) for r in runs],
        "peakRssMb": round((peak - base) / 1024, 1),
        "baselineRssMb": round(base / 1024, 1),
        "absPeakRssMb": round(peak / 1024, 1),
        "check": check,
    }


def case(name, xlsx, csv):
    if name == "P1":
        return measure("P1", lambda: lambda: len(split_melt(pd.read_excel(xlsx, header=None, engine="openpyxl"))))
    if name == "P1b":
        return measure("P1b", lambda: lambda: len(split_melt(pd.read_csv(csv, encoding="cp932", header=None, skip_blank_lines=False))))
    if name == "P2":
        def setup():
            df = replay_frame()
            return lambda: p2(df)
        return measure("P2", setup)
    if name == "P4":
        def setup4():
            df = replay_frame()
            s1 = df[df["科目"].isin(["売上", "原価"])]
            page = s1.head(5000).astype({"年度": str, "地域": str, "製品": str, "科目": str})
            fig = {"data": [{"type": "bar", "x": REGIONS, "y": list(range(50))} for _ in range(10)]}
            return lambda: len(page.to_json(orient="records", force_ascii=False)) + len(json.dumps(fig))
        return measure("P4", setup4)
    raise SystemExit(f"unknown case {name}")


def main():
    xlsx, csv = sys.argv[1], sys.argv[2]
    if "--case" in sys.argv:
        print(json.dumps(case(sys.argv[sys.argv.index("--case") + 1], xlsx, csv), ensure_ascii=False))
        return
    out = []
    for name in ["P1", "P1b", "P2", "P4"]:
        p = subprocess.run([sys.executable, __file__, xlsx, csv, "--case", name], capture_output=True, text=True, check=True)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{name:4} median {res['medianMs']:8} ms  p95 {res['p95Ms']:8} ms  peak RSS +{res['peakRssMb']} MB  {res['check']}", file=sys.stderr)
        out.append(res)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
