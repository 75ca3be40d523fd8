using System.Globalization;
using System.Text;

namespace AgentCrm.Core.Platform.Caching;

public enum CacheMessageKind
{
    /// <summary>One key of a cache was written: drop its L1 copy.</summary>
    Key,

    /// <summary>A namespace of a cache moved to <see cref="CacheMessage.Version"/>: its L1 copies are stale.</summary>
    Namespace,

    /// <summary>Invalidations were lost while Redis was unreachable: every L2 key moved to a new epoch; drop all of L1.</summary>
    Epoch,
}

/// <summary>
/// An invalidation on the pub/sub channel, as text lines: kind, cache, then the key, or the namespace
/// and its version, or the epoch. Names and keys are made by the app (ids, hashes): never a newline.
/// </summary>
public sealed record CacheMessage(CacheMessageKind Kind, string Cache, string Name, long Version)
{
    public const string Channel = "cache:invalidations";

    public static CacheMessage ForKey(string cache, string key) => new(CacheMessageKind.Key, cache, key, 0);

    public static CacheMessage ForNamespace(string cache, string ns, long version) => new(CacheMessageKind.Namespace, cache, ns, version);

    public static CacheMessage ForEpoch(long epoch) => new(CacheMessageKind.Epoch, string.Empty, string.Empty, epoch);

    public byte[] Encode()
    {
        var kind = Kind switch { CacheMessageKind.Key => "k", CacheMessageKind.Namespace => "n", _ => "e" };
        return Encoding.UTF8.GetBytes(string.Join('\n', kind, Cache, Name, Version.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Null for anything this build does not understand (a newer release may add kinds during a swap).</summary>
    public static CacheMessage? Decode(ReadOnlySpan<byte> payload)
    {
        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 4 || !long.TryParse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var version))
        {
            return null;
        }

        return parts[0] switch
        {
            "k" => ForKey(parts[1], parts[2]),
            "n" => ForNamespace(parts[1], parts[2], version),
            "e" => ForEpoch(version),
            _ => null,
        };
    }
}
