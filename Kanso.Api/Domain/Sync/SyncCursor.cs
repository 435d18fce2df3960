using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Kanso.Api.Domain.Sync;

/// <summary>Which rows of a change number a position has passed: its habits up to an id, its entries up to an id, or all of them.</summary>
internal enum ChangeKind : byte
{
    Habit = 0,
    Entry = 1,

    /// <summary>Every row of the change number (the usual case).</summary>
    All = 2,

    /// <summary>Time off, after entries within a change number.</summary>
    TimeOff = 3,
}

/// <summary>
/// A position in one user's change stream, the opaque <c>cursor</c> of pull and push.
/// <para>
/// Rows are ordered by (change_seq, kind, id): habits before entries within one change number, since
/// a single write can stamp many rows with the same number (a habit delete tombstones its entries;
/// the streak worker stores several habits). <see cref="Seq"/>, <see cref="After"/> and
/// <see cref="Id"/> name the last row served; <see cref="ChangeKind.All"/> means the change number
/// was served completely, so the next page starts at the next number.
/// </para>
/// <para>
/// <see cref="Floor"/> belongs to an initial sync (a pull without a cursor, which leaves tombstones
/// out): the user's change number when it began. Tombstones at or below it are of records such a
/// client never received, so they are skipped, and purging them cannot make its cursor stale.
/// </para>
/// Encoded as base64url of a version byte, the fields and a 64-bit tag: SHA-256 over the user id and
/// the fields. The tag ties the cursor to its user (a cursor of another account is refused) and
/// catches corruption; it is not a secret, since a client forging its own position gains nothing.
/// </summary>
internal readonly record struct SyncCursor(long Seq, ChangeKind After, Guid Id, long Floor)
{
    private const byte Version = 1;
    private const byte HasRow = 1;
    private const byte HasFloor = 2;
    private const int TagLength = 8;
    private const int MaxBytes = 2 + 8 + 1 + 16 + 8 + TagLength;

    /// <summary>Before the user's first change.</summary>
    public static SyncCursor Start => At(0);

    /// <summary>Every change up to and including <paramref name="seq"/>.</summary>
    public static SyncCursor At(long seq) => new(seq, ChangeKind.All, Guid.Empty, 0);

    /// <summary>
    /// A purge of tombstones up to this change number leaves the cursor complete; one beyond it does
    /// not (410). A cursor inside a change number has not received all of it yet.
    /// </summary>
    public long Horizon => Math.Max(After == ChangeKind.All ? Seq : Seq - 1, Floor);

    /// <summary>The first (change_seq, id) of habits not yet served, inclusive.</summary>
    public (long Seq, Guid Id) HabitsFrom => After == ChangeKind.Habit ? Successor(Seq, Id) : (Seq + 1, Guid.Empty);

    /// <summary>The first (change_seq, id) of entries not yet served, inclusive (habits come first within a change number).</summary>
    public (long Seq, Guid Id) EntriesFrom => After switch
    {
        ChangeKind.Habit => (Seq, Guid.Empty),
        ChangeKind.Entry => Successor(Seq, Id),
        _ => (Seq + 1, Guid.Empty),
    };

    /// <summary>The first (change_seq, id) of time off not yet served, inclusive (after habits and entries within a change number).</summary>
    public (long Seq, Guid Id) TimeOffFrom => After switch
    {
        ChangeKind.Habit or ChangeKind.Entry => (Seq, Guid.Empty),
        ChangeKind.TimeOff => Successor(Seq, Id),
        _ => (Seq + 1, Guid.Empty),
    };

    public string Encode(Guid userId)
    {
        Span<byte> bytes = stackalloc byte[MaxBytes];
        var flags = (byte)((After == ChangeKind.All ? 0 : HasRow) | (Floor > Seq ? HasFloor : 0));
        bytes[0] = Version;
        bytes[1] = flags;
        BinaryPrimitives.WriteInt64BigEndian(bytes[2..], Seq);
        var length = 10;
        if ((flags & HasRow) != 0)
        {
            bytes[length++] = (byte)After;
            Id.TryWriteBytes(bytes[length..], bigEndian: true, out _);
            length += 16;
        }

        if ((flags & HasFloor) != 0)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes[length..], Floor);
            length += 8;
        }

        Tag(userId, bytes[..length], bytes.Slice(length, TagLength));
        return Base64Url.EncodeToString(bytes[..(length + TagLength)]);
    }

    /// <summary>False for anything this server did not issue to <paramref name="userId"/> (malformed, corrupted or another user's).</summary>
    public static bool TryDecode(string? text, Guid userId, out SyncCursor cursor)
    {
        cursor = default;
        Span<byte> bytes = stackalloc byte[MaxBytes];
        // TryDecodeFromChars throws on characters outside the alphabet; IsValid checks them first.
        if (string.IsNullOrEmpty(text) || text.Length > Base64Url.GetEncodedLength(MaxBytes)
            || !Base64Url.IsValid(text, out var length) || length is < 10 + TagLength or > MaxBytes
            || !Base64Url.TryDecodeFromChars(text, bytes, out var written) || written != length
            || bytes[0] != Version || (bytes[1] & ~(HasRow | HasFloor)) != 0)
        {
            return false;
        }

        var flags = bytes[1];
        var payload = 10 + ((flags & HasRow) != 0 ? 17 : 0) + ((flags & HasFloor) != 0 ? 8 : 0);
        if (written != payload + TagLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[TagLength];
        Tag(userId, bytes[..payload], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(payload, TagLength)))
        {
            return false;
        }

        var seq = BinaryPrimitives.ReadInt64BigEndian(bytes[2..]);
        var after = ChangeKind.All;
        var id = Guid.Empty;
        var at = 10;
        if ((flags & HasRow) != 0)
        {
            after = (ChangeKind)bytes[at];
            id = new Guid(bytes.Slice(at + 1, 16), bigEndian: true);
            at += 17;
        }

        var floor = (flags & HasFloor) != 0 ? BinaryPrimitives.ReadInt64BigEndian(bytes[at..]) : 0;
        if (seq is < 0 or long.MaxValue || ((flags & HasRow) != 0 && after is not (ChangeKind.Habit or ChangeKind.Entry or ChangeKind.TimeOff)) || ((flags & HasFloor) != 0 && floor <= seq))
        {
            return false;
        }

        cursor = new SyncCursor(seq, after, id, floor);
        return true;
    }

    /// <summary>The next (change_seq, id) after this one in PostgreSQL's uuid order (bytewise, as written big-endian).</summary>
    private static (long Seq, Guid Id) Successor(long seq, Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        for (var i = 15; i >= 0; i--)
        {
            if (++bytes[i] != 0)
            {
                return (seq, new Guid(bytes, bigEndian: true));
            }
        }

        return (seq + 1, Guid.Empty);
    }

    private static void Tag(Guid userId, ReadOnlySpan<byte> payload, Span<byte> tag)
    {
        Span<byte> input = stackalloc byte[16 + MaxBytes];
        userId.TryWriteBytes(input, bigEndian: true, out _);
        payload.CopyTo(input[16..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input[..(16 + payload.Length)], hash);
        hash[..TagLength].CopyTo(tag);
    }
}
