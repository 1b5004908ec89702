#!/usr/bin/env python3
"""Print the rows of one SQL query on an openclaw-trace database as JSON.

The Node tests use it to read the daemon's SQLite file: Node 20 has no
built-in sqlite. Usage: query.py DB_PATH SQL
"""
import json
import sqlite3
import sys


def main():
    db, sql = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute(sql)]
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
