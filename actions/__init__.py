"""The write side: everything that changes the database, each path guarded (db.guard).

writing        one writer transaction, then invalidation of what it changed
activities     creating a post (the Admin page, `python -m seed create-activity`)
sessions       cancel / terminate, and the audit log
rollup         keeping the hourly growth rollup moving
"""
