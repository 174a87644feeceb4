#!/usr/bin/env python3
"""The anonymous memory of a running process by kind of mapping, one line: glibc's arenas
(64 MiB-aligned anonymous mappings: what SQLite and other C code allocate), [heap], the binary's
own anonymous pages, and the rest (jemalloc's chunks, thread stacks). For the soak: run it
every minute on the server's PID to see which part grows.

usage: smaps.py PID
"""
import sys,re,time
pid=sys.argv[1]
cur=None; rows=[]
for line in open(f'/proc/{pid}/smaps'):
    if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
        parts=line.split()
        cur={'start':int(parts[0].split('-')[0],16),'name':parts[5] if len(parts)>5 else ''}
        rows.append(cur)
    elif line.startswith('Anonymous:'):
        cur['anon']=int(line.split()[1])
    elif line.startswith('Size:'):
        cur['size']=int(line.split()[1])
glibc=sum(r.get('anon',0) for r in rows if r['start'] % (64<<20)==0 and r['name']=='' and r.get('size',0)<=65536)
heap=sum(r.get('anon',0) for r in rows if r['name']=='[heap]')
total=sum(r.get('anon',0) for r in rows)
binary=sum(r.get('anon',0) for r in rows if 'secviz' in r['name'])
print(time.strftime('%H:%M:%S'), 'total anon MB %.1f  glibc arenas(64MiB-aligned) %.1f  [heap] %.1f  binary-anon %.1f  rest(jemalloc, stacks) %.1f' % (total/1024, glibc/1024, heap/1024, binary/1024, (total-glibc-heap-binary)/1024))
