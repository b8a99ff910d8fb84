"""Benchmark the roster import: N generated units into a fresh SQLite database.

    .venv/bin/python scripts/bench_roster.py            # 5,000 units
    .venv/bin/python scripts/bench_roster.py -n 20000   # the largest file accepted
    .venv/bin/python scripts/bench_roster.py --database-url postgresql+psycopg://…/empty_db

Prints the time of the first import (everything created), of a re-import (everything
unchanged) and of an import with every area changed, each including its commit. The requirement
is 5,000 units in under 10 seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红"


def make_csv(n: int, seed: int = 1, bump: str = "0") -> bytes:
    rng = random.Random(seed)
    lines = ["楼栋,房号,专有面积,业主编号,业主姓名,联系电话,开发商持有"]
    for i in range(n):
        building, r = divmod(i, 96)
        room = f"{r // 4 + 1}{r % 4 + 1:02d}"
        area = f"{rng.randint(45, 149)}.{rng.randint(0, 99):02d}"
        if bump != "0":
            area = f"{float(area) + float(bump):.2f}"
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        phone = (
            f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}" if rng.random() > 0.15 else ""
        )
        lines.append(f"{building + 1}栋,{room},{area},K{i:06d},{name},{phone},否")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rows", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    from portal import create_app
    from portal.extensions import db
    from portal.places import roster_service
    from portal.places.models import Community, Compound, Street

    tmp = tempfile.mkdtemp(prefix="bench-roster-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    app = create_app(
        {"PORTAL_ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url, "REDIS_URL": None}
    )
    with app.app_context():
        from sqlalchemy import inspect

        if inspect(db.engine).get_table_names():
            sys.exit(f"{url} is not empty: give the benchmark a database of its own.")
        db.create_all()
        street = Street(code="BENCH", name="基准街道")
        db.session.add(street)
        db.session.flush()
        community = Community(street_id=street.id, code="BENCH-1", name="基准社区")
        db.session.add(community)
        db.session.flush()
        compound = Compound(community_id=community.id, code="BENCH-C", name="基准小区", kind="old")
        db.session.add(compound)
        db.session.commit()

        data = make_csv(args.rows)
        changed = make_csv(args.rows, bump="0.01")
        print(f"{args.rows} rows, {len(data) / 1024:.0f} KiB, database {url.split(':')[0]}")
        for label, payload in (
            ("first import", data),
            ("re-import (unchanged)", data),
            ("every area changed", changed),
        ):
            start = time.perf_counter()
            result = roster_service.import_roster(None, compound, payload, "bench.csv")
            db.session.commit()
            elapsed = time.perf_counter() - start
            print(
                f"{label:24s} {elapsed:6.2f} s  created {result.units_created}, "
                f"updated {result.units_updated}, unchanged {result.units_unchanged}, "
                f"owners +{result.owners_created}/~{result.owners_updated}"
            )
        start = time.perf_counter()
        roster_service.preview(None, compound, data, "bench.csv")
        print(f"{'preview':24s} {time.perf_counter() - start:6.2f} s")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
