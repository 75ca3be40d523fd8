using System.Buffers.Binary;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Caching.Distributed;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> on the app's Redis client, under <c>dc:</c> keys. A value is stored
/// with its absolute and sliding expiry in front, so a read can renew a sliding one. Like the layered
/// cache it never fails a request for Redis: a failed read is a miss, a failed write is dropped (both
/// counted as <c>cache=distributed</c>).
/// </summary>
public sealed class RedisDistributedCache(IRedisClient redis, TimeProvider time) : IDistributedCache
{
    private const int HeaderBytes = 2 * sizeof(long);

    public CacheMetrics Metrics { get; } = new("distributed");

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        try
        {
            var stored = await redis.GetAsync(Key(key), token);
            if (stored is null || stored.Length < HeaderBytes)
            {
                Metrics.Miss();
                return null;
            }

            Metrics.L2Hit();
            await RenewAsync(key, stored, token);
            return stored[HeaderBytes..];
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
            return null;
        }
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = time.GetUtcNow();
        var absolute = options.AbsoluteExpiration ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null);
        if (absolute <= now)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The absolute expiration is in the past.");
        }

        var sliding = options.SlidingExpiration;
        var bytes = new byte[HeaderBytes + value.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, absolute?.ToUnixTimeMilliseconds() ?? 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(sizeof(long)), (long)(sliding?.TotalMilliseconds ?? 0));
        value.CopyTo(bytes, HeaderBytes);
        try
        {
            await redis.SetAsync(Key(key), bytes, Lifetime(now, absolute, sliding), token);
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
        }
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        try
        {
            if (await redis.GetAsync(Key(key), token) is { Length: >= HeaderBytes } stored)
            {
                await RenewAsync(key, stored, token);
            }
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
        }
    }

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        try
        {
            await redis.DeleteAsync([Key(key)], token);
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
        }
    }

    /// <summary>Moves a sliding entry's expiry on (never past its absolute one).</summary>
    private async Task RenewAsync(string key, byte[] stored, CancellationToken token)
    {
        var sliding = BinaryPrimitives.ReadInt64BigEndian(stored.AsSpan(sizeof(long)));
        if (sliding <= 0)
        {
            return;
        }

        var absoluteMs = BinaryPrimitives.ReadInt64BigEndian(stored);
        DateTimeOffset? absolute = absoluteMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(absoluteMs) : null;
        if (Lifetime(time.GetUtcNow(), absolute, TimeSpan.FromMilliseconds(sliding)) is { } lifetime)
        {
            await redis.ExecuteAsync("PEXPIRE", [redis.Key(Key(key)), (long)Math.Max(1, lifetime.TotalMilliseconds)], token);
        }
    }

    private static TimeSpan? Lifetime(DateTimeOffset now, DateTimeOffset? absolute, TimeSpan? sliding)
    {
        var untilAbsolute = absolute - now;
        return (untilAbsolute, sliding) switch
        {
            ({ } a, { } s) => a < s ? a : s,
            ({ } a, null) => a,
            (null, { } s) => s,
            _ => null,
        };
    }

    private static string Key(string key) => "dc:" + key;
}
