using System.Collections.Concurrent;
using System.Globalization;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// Keeps every instance's L1 in step: invalidations go out on one pub/sub channel and come in to the
/// named caches registered here. An instance whose subscription is down cannot hear the others, so
/// while it is (or while it has invalidations it could not send) <see cref="IsSynchronized"/> is false
/// and the caches send reads straight to the source. After a reconnect messages may have been missed:
/// all of L1 is dropped. Invalidations that could not reach Redis are made good by moving every L2 key
/// to a new <see cref="Epoch"/> once Redis answers again (no SCAN, nothing to enumerate).
/// </summary>
public sealed partial class CacheBus : IDisposable
{
    private const string EpochKey = "cache:epoch";

    // A version that only grows, even if its key was evicted or expired: the server's clock in ms, or one
    // past the stored value. (Milliseconds keep it exact through Lua's number formatting.)
    private static readonly RedisScript Bump = new("""
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        local now = redis.call('TIME')
        local nextv = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        if nextv <= current then nextv = current + 1 end
        if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[1], nextv, 'PX', ARGV[1]) else redis.call('SET', KEYS[1], nextv) end
        return nextv
        """);

    private readonly IRedisClient _redis;
    private readonly IRedisSubscriber _subscriber;
    private readonly ILogger<CacheBus> _logger;
    private readonly ConcurrentDictionary<string, ICacheInstance> _caches = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _ready;
    private long _epoch;
    private long _losses;
    private int _recovering;
    private int _started;

    public CacheBus(IRedisClient redis, IRedisSubscriber subscriber, ILogger<CacheBus> logger)
    {
        _redis = redis;
        _subscriber = subscriber;
        _logger = logger;
        if (!redis.IsConfigured)
        {
            _firstReady.TrySetResult();
        }
    }

    /// <summary>Whether invalidations use Redis at all (without it there is one instance and L1 alone is right).</summary>
    public bool UsesRedis => _redis.IsConfigured;

    /// <summary>Caches may be used: no Redis at all, or both connections up, subscribed, and nothing lost to make good.</summary>
    public bool IsSynchronized => !_redis.IsConfigured
        || (_ready && Volatile.Read(ref _recovering) == 0 && _redis.IsConnected && _subscriber.IsConnected);

    /// <summary>Part of every L2 key; moves on when invalidations were lost.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    internal IRedisClient Redis => _redis;

    internal IReadOnlyCollection<ICacheInstance> Caches => (IReadOnlyCollection<ICacheInstance>)_caches.Values;

    internal void Register(ICacheInstance cache)
    {
        if (!_caches.TryAdd(cache.Name, cache))
        {
            throw new InvalidOperationException($"A cache named {cache.Name} exists already.");
        }
    }

    /// <summary>Subscribes in the background (retrying until Redis answers); see <see cref="WhenSynchronizedAsync"/>.</summary>
    public void Start()
    {
        if (!_redis.IsConfigured || Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        _subscriber.Resubscribed += OnResubscribed;
        _subscriber.Disconnected += OnDisconnected;
        _ = SubscribeAsync(_stopping.Token);
    }

    /// <summary>Completes when the caches are usable, or throws when <paramref name="cancellationToken"/> gives up waiting.</summary>
    public async Task WhenSynchronizedAsync(CancellationToken cancellationToken)
    {
        await _firstReady.Task.WaitAsync(cancellationToken);
        // The subscriber says nothing when it first connects: look until it has.
        while (!IsSynchronized)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    internal async Task PublishAsync(CacheMessage message)
    {
        try
        {
            await _redis.PublishAsync(CacheMessage.Channel, message.Encode(), _stopping.Token);
        }
        catch (RedisException e)
        {
            InvalidationLost(e);
        }
    }

    /// <summary>Moves a version key on (namespaces, the epoch); see <see cref="Bump"/>.</summary>
    internal async Task<long> BumpAsync(string key, TimeSpan? expiry)
    {
        var reply = await _redis.EvalAsync(Bump, [key], [(long)(expiry?.TotalMilliseconds ?? 0)], _stopping.Token);
        return reply.AsInteger();
    }

    /// <summary>An invalidation did not reach Redis: other instances may serve the old value until the epoch moves on.</summary>
    internal void InvalidationLost(Exception reason)
    {
        Interlocked.Increment(ref _losses);
        LogInvalidationLost(_logger, reason.Message);
        if (Interlocked.Exchange(ref _recovering, 1) == 0)
        {
            _ = RecoverAsync(_stopping.Token);
        }
    }

    internal void ClearAllLocal()
    {
        foreach (var cache in _caches.Values)
        {
            cache.ClearLocal();
        }
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        // The subscriber keeps the subscription across reconnects itself: subscribe once, then learn the epoch.
        await RetryAsync(token => _subscriber.SubscribeAsync(CacheMessage.Channel, OnMessage, token), cancellationToken);
        await RetryAsync(RefreshEpochAsync, cancellationToken);
    }

    /// <summary>Reads the epoch and only then declares the caches usable.</summary>
    private async Task RefreshEpochAsync(CancellationToken cancellationToken)
    {
        var stored = await _redis.GetAsync(EpochKey, cancellationToken);
        var epoch = stored is null ? 0 : long.Parse(System.Text.Encoding.ASCII.GetString(stored), CultureInfo.InvariantCulture);
        RaiseEpoch(epoch);
        _ready = true;
        _firstReady.TrySetResult();
    }

    private void OnResubscribed()
    {
        // Messages sent while we were away are gone: nothing local can be trusted.
        _ready = false;
        ClearAllLocal();
        _ = RetryAsync(RefreshEpochAsync, _stopping.Token);
    }

    private void OnDisconnected()
    {
        _ready = false;
        ClearAllLocal();
    }

    private void OnMessage(ReadOnlyMemory<byte> payload)
    {
        var message = CacheMessage.Decode(payload.Span);
        if (message is null)
        {
            return;
        }

        if (message.Kind == CacheMessageKind.Epoch)
        {
            RaiseEpoch(message.Version);
            ClearAllLocal();
        }
        else if (_caches.TryGetValue(message.Cache, out var cache))
        {
            if (message.Kind == CacheMessageKind.Key)
            {
                cache.OnRemoteKey(message.Name);
            }
            else
            {
                cache.OnRemoteNamespace(message.Name, message.Version);
            }
        }
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            var losses = Interlocked.Read(ref _losses);
            try
            {
                if (_redis.IsConnected)
                {
                    var epoch = await BumpAsync(EpochKey, null);
                    RaiseEpoch(epoch);
                    ClearAllLocal();
                    await _redis.PublishAsync(CacheMessage.Channel, CacheMessage.ForEpoch(epoch).Encode(), cancellationToken);
                    LogRecovered(_logger, epoch);
                    if (Interlocked.Read(ref _losses) == losses)
                    {
                        Volatile.Write(ref _recovering, 0);
                        return;
                    }

                    continue; // lost more while recovering: once more
                }
            }
            catch (RedisException)
            {
                // still down: wait and try again
            }

            await DelayAsync(Backoff(attempt), cancellationToken);
        }
    }

    private async Task RetryAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await work(cancellationToken);
                return;
            }
            catch (RedisException e)
            {
                var delay = Backoff(attempt);
                if (attempt == 1)
                {
                    LogNotReady(_logger, e.Message, (int)delay.TotalMilliseconds);
                }

                await DelayAsync(delay, cancellationToken);
            }
        }
    }

    private void RaiseEpoch(long epoch)
    {
        long current;
        while (epoch > (current = Interlocked.Read(ref _epoch)) && Interlocked.CompareExchange(ref _epoch, epoch, current) != current)
        {
        }
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(1_000, 25 * (1 << Math.Min(attempt, 6))));

    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public void Dispose()
    {
        _subscriber.Resubscribed -= OnResubscribed;
        _subscriber.Disconnected -= OnDisconnected;
        _stopping.Cancel();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 7301, Level = LogLevel.Warning, Message = "Cache invalidations are not in step yet ({Reason}); caches are bypassed; retrying from {DelayMs} ms")]
    private static partial void LogNotReady(ILogger logger, string reason, int delayMs);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Warning, Message = "A cache invalidation did not reach Redis ({Reason}); caches are bypassed here until the epoch moves on")]
    private static partial void LogInvalidationLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 7303, Level = LogLevel.Information, Message = "Cache epoch moved to {Epoch}: invalidations lost while Redis was away are made good")]
    private static partial void LogRecovered(ILogger logger, long epoch);
}

/// <summary>What the bus needs of a named cache.</summary>
internal interface ICacheInstance
{
    string Name { get; }

    void OnRemoteKey(string key);

    void OnRemoteNamespace(string ns, long version);

    void ClearLocal();

    CacheStatistics Statistics();
}
