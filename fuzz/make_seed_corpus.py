#!/usr/bin/env python3
"""Writes the seed corpus from the format of docs/format.md, independently of
the Rust encoder (so the corpus also cross-checks the documented layout)."""
import os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))

def envelope(seq, stream, at_ms, kind, body):
    s = stream.encode()
    return (struct.pack('<Q', seq) + struct.pack('<Q', len(s)) + s +
            struct.pack('<QH', at_ms, kind) + struct.pack('<Q', len(body)) + body)

def frame(payload, chain=0):
    head = bytes([0xA7, 1, 0]) + struct.pack('<II', len(payload), chain)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    return head + struct.pack('<I', crc) + payload

def write(target, name, data):
    with open(os.path.join(HERE, 'corpus', target, name), 'wb') as f:
        f.write(data)

envs = {
    'minimal': envelope(1, 's', 0, 0, b''),
    'typical': envelope(42, 'wf/etl', 1_700_000_000_000, 3, b'\x01\x02'),
    'body200': envelope(7, 'worker-17', 1_700_000_000_123, 9, bytes(range(200))),
    'unicode_stream': envelope(3, 'flöw/β', 5, 65535, b'x'),
}
for name, env in envs.items():
    write('envelope_decoder', name, env)
    write('frame_decoder', name, frame(env, 0x1234ABCD))
write('envelope_decoder', 'huge_len_prefix', struct.pack('<QQ', 1, 2**63))
write('envelope_decoder', 'truncated', envs['typical'][:-1])
good = frame(envs['typical'])
write('frame_decoder', 'two_frames', good + frame(envs['minimal'], zlib.crc32(good[:11] + good[15:]) & 0xFFFFFFFF))
write('frame_decoder', 'torn_header', good[:9])
write('frame_decoder', 'torn_payload', good[:-3])
write('frame_decoder', 'huge_len', bytes([0xA7, 1, 0]) + struct.pack('<III', 0xFFFFFFFF, 0, 0))
write('frame_decoder', 'bad_crc', good[:-1] + bytes([good[-1] ^ 1]))

def checkpoint_payload(name, gen, seq, version, data_len, first):
    n = name.encode()
    return (struct.pack('<Q', len(n)) + n + struct.pack('<QQIQ', gen, seq, version, data_len) +
            struct.pack('<Q', len(first)) + first)

os.makedirs(os.path.join(HERE, 'corpus', 'checkpoint_decoder'), exist_ok=True)
small = frame(checkpoint_payload('state_manager', 1, 42, 1, 5, b'hello'))
write('checkpoint_decoder', 'small', small)
write('checkpoint_decoder', 'empty_data', frame(checkpoint_payload('state_manager', 1, 0, 1, 0, b'')))
write('checkpoint_decoder', 'wrong_name', frame(checkpoint_payload('other', 1, 42, 1, 5, b'hello')))
write('checkpoint_decoder', 'announces_more', frame(checkpoint_payload('state_manager', 1, 42, 1, 2**40, b'hello')))
write('checkpoint_decoder', 'short_first_chunk', frame(checkpoint_payload('state_manager', 1, 42, 1, 9, b'hello')) + frame(b'more', 0))
write('checkpoint_decoder', 'trailing', small + b'x')
write('checkpoint_decoder', 'torn', small[:-2])
