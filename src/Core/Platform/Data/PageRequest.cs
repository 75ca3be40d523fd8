using System.Buffers.Text;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// Keyset pagination over UUIDv7 ids, newest first: the cursor is the last id served, base64url-encoded
/// (opaque to clients), so pages stay stable while rows are added or removed.
/// </summary>
public sealed record PageRequest(int Limit, Guid? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    /// <summary>Checks <c>limit</c> and <c>cursor</c> into <paramref name="errors"/>; the result is only valid when it stays empty.</summary>
    public static PageRequest Parse(string? limit, string? cursor, ValidationErrors errors)
    {
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"must be a whole number from 1 to {MaxLimit}.");
        }

        Guid? after = null;
        if (cursor is not null)
        {
            after = Decode(cursor);
            if (after is null)
            {
                errors.Add("cursor", "is not a cursor this API gave out; use nextCursor from the previous page.");
            }
        }

        return new PageRequest(size, after);
    }

    public static string Encode(Guid id) => Base64Url.EncodeToString(id.ToByteArray(bigEndian: true));

    private static Guid? Decode(string cursor)
    {
        Span<byte> bytes = stackalloc byte[18];
        return cursor.Length == 22 && Base64Url.TryDecodeFromChars(cursor, bytes, out var written) && written == 16
            ? new Guid(bytes[..16], bigEndian: true)
            : null;
    }
}

/// <summary>One page: <see cref="NextCursor"/> is null on the last.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Page
{
    /// <summary>A page from up to <c>limit + 1</c> rows read newest first: the extra row only says another page exists.</summary>
    public static Page<T> From<T>(List<T> rows, int limit, Func<T, Guid> id)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }

        rows.RemoveRange(limit, rows.Count - limit);
        return new Page<T>(rows, PageRequest.Encode(id(rows[^1])));
    }
}
