using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;

namespace NeuralBasics.Serialization;

/// <summary>
/// SHA-256 (FIPS 180-4) in managed code, for verifying the checksums of files written in format
/// version 2, on machines without OpenSSL (which .NET's own SHA-256 calls on Linux). Here it only
/// detects damage, as the newer XXH128 checksum does: anyone who edits a file can recompute either.
/// </summary>
internal sealed class Sha256 : NonCryptographicHashAlgorithm
{
    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private readonly uint[] _state = new uint[8];
    private readonly uint[] _schedule = new uint[64];
    private readonly byte[] _block = new byte[64];
    private int _filled;
    private long _length;

    public Sha256()
        : base(32) => Reset();

    public override void Reset()
    {
        ReadOnlySpan<uint> initial = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        initial.CopyTo(_state);
        _filled = 0;
        _length = 0;
    }

    public override void Append(ReadOnlySpan<byte> source)
    {
        _length += source.Length;
        if (_filled > 0)
        {
            int take = Math.Min(64 - _filled, source.Length);
            source[..take].CopyTo(_block.AsSpan(_filled));
            _filled += take;
            source = source[take..];
            if (_filled < 64)
                return;
            Compress(_block);
            _filled = 0;
        }
        while (source.Length >= 64)
        {
            Compress(source[..64]);
            source = source[64..];
        }
        source.CopyTo(_block);
        _filled = source.Length;
    }

    protected override void GetCurrentHashCore(Span<byte> destination)
    {
        // Pad a copy, so the running state can go on: 0x80, zeros, the length in bits (big-endian).
        uint[] state = [.. _state];
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        _block.AsSpan(0, _filled).CopyTo(tail);
        tail[_filled] = 0x80;
        int total = _filled + 9 <= 64 ? 64 : 128;
        BinaryPrimitives.WriteInt64BigEndian(tail.Slice(total - 8), _length * 8);
        for (int offset = 0; offset < total; offset += 64)
            Compress(tail.Slice(offset, 64), state);
        for (int i = 0; i < 8; i++)
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(4 * i), state[i]);
    }

    private void Compress(ReadOnlySpan<byte> block) => Compress(block, _state);

    private void Compress(ReadOnlySpan<byte> block, uint[] state)
    {
        var w = _schedule;
        for (int t = 0; t < 16; t++)
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block.Slice(4 * t));
        for (int t = 16; t < 64; t++)
        {
            uint s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++)
        {
            uint sum1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
            uint choose = (e & f) ^ (~e & g);
            uint t1 = h + sum1 + choose + K[t] + w[t];
            uint sum0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
            uint majority = (a & b) ^ (a & c) ^ (b & c);
            uint t2 = sum0 + majority;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}
