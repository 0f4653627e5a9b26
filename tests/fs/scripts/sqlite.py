# python3's sqlite3: a database in /tmp, 10,000 inserted rows, queries.
import os, sqlite3
path = "/tmp/palisade-sqlite-%d.db" % os.getpid()
db = sqlite3.connect(path)
db.execute("create table t (id integer primary key, name text, score real)")
with db:
    db.executemany("insert into t (name, score) values (?, ?)",
                   (("name%d" % i, (i * 37) % 1000 / 10.0) for i in range(10000)))
# Some single-row transactions, each journalled and synced.
for i in range(20):
    with db:
        db.execute("update t set score = score + 1 where id = ?", (i + 1,))
db.execute("create index t_score on t (score)")
print(db.execute("select count(*), sum(score), min(name), max(name) from t").fetchone())
print(db.execute("select id, name from t where score > 99.5 order by id limit 5").fetchall())
db.close()
db = sqlite3.connect(path)
print(db.execute("pragma integrity_check").fetchone())
print(db.execute("select count(*) from t where name like 'name99%'").fetchone())
db.close()
os.unlink(path)
