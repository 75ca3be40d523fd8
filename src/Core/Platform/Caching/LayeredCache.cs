using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentCrm.Core.Platform.Redis;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// One named cache: L1 (bounded, in-process) over L2 (Redis) over the source. Concurrent misses of a
/// key share one load. Keys may belong to a namespace, invalidated all at once by moving its version
/// (kept in Redis, part of every L2 key of the namespace, learned and followed locally through the
/// bus). Null results are never stored. A Redis failure is counted and the read goes on to the source;
/// while the bus is not synchronized every read goes to the source (see <see cref="CacheBus"/>).
/// </summary>
public sealed class LayeredCache<T> : ICacheInstance
    where T : class
{
    private const int MaxKnownNamespaces = 10_000;

    private readonly CachePolicy _policy;
    private readonly JsonTypeInfo<T> _json;
    private readonly CacheBus _bus;
    private readonly TimeProvider _time;
    private readonly L1Store _l1;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _namespaceVersions = new(StringComparer.Ordinal);
    private long _invalidationMark;

    internal LayeredCache(CachePolicy policy, JsonTypeInfo<T> json, CacheBus bus, TimeProvider time)
    {
        _policy = policy;
        _json = json;
        _bus = bus;
        _time = time;
        _l1 = new L1Store(policy.L1MaxEntries);
        Metrics = new CacheMetrics(policy.Name);
        bus.Register(this);
    }

    public string Name => _policy.Name;

    public CacheMetrics Metrics { get; }

    /// <summary>Grows with every invalidation this instance applies: a warm-up primes only if it has not moved.</summary>
    public long InvalidationMark => Interlocked.Read(ref _invalidationMark);

    private IRedisClient Redis => _bus.Redis;

    public Task<T?> GetOrLoadAsync(string key, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken) =>
        GetOrLoadAsync(null, key, load, cancellationToken);

    /// <summary>The value under <paramref name="key"/> (in namespace <paramref name="ns"/> when given), loaded by <paramref name="load"/> on a miss.</summary>
    public Task<T?> GetOrLoadAsync(string? ns, string key, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
    {
        if (!_policy.Enabled)
        {
            return load(cancellationToken);
        }

        if (!_bus.IsSynchronized)
        {
            Metrics.Bypassed();
            return load(cancellationToken);
        }

        var local = LocalKey(ns, key);
        if (FromL1(ns, local) is { } hit)
        {
            Metrics.L1Hit();
            return Task.FromResult<T?>(hit);
        }

        while (true)
        {
            if (_flights.TryGetValue(local, out var running))
            {
                return running.Result.Task.WaitAsync(cancellationToken);
            }

            var flight = new Flight(ns);
            if (_flights.TryAdd(local, flight))
            {
                // The shared load must not end with the first caller's request: it runs on its own token.
                _ = FillAsync(flight, ns, key, local, load);
                return flight.Result.Task.WaitAsync(cancellationToken);
            }
        }
    }

    /// <summary>Drops one key everywhere; call after the write that changed it committed.</summary>
    public Task InvalidateAsync(string key) => InvalidateAsync([key]);

    public async Task InvalidateAsync(IReadOnlyCollection<string> keys)
    {
        if (!_policy.Enabled || keys.Count == 0)
        {
            return;
        }

        Metrics.Invalidated(keys.Count);
        if (!_bus.UsesRedis)
        {
            DropAllLocal(keys);
            return;
        }

        try
        {
            // One DEL per key (keys of a multi-key command would have to share a cluster slot). L2 goes
            // first, so a read here in between cannot copy the old value back into L1 after the drop.
            await Task.WhenAll(keys.Select(k => Redis.DeleteAsync([L2Key(null, 0, k)])));
        }
        catch (RedisException e)
        {
            DropAllLocal(keys);
            Metrics.RedisFailed();
            _bus.InvalidationLost(e);
            return;
        }

        DropAllLocal(keys);
        await Task.WhenAll(keys.Select(k => _bus.PublishAsync(CacheMessage.ForKey(Name, k))));
    }

    /// <summary>Makes every key of <paramref name="ns"/> stale everywhere; call after the write committed.</summary>
    public async Task InvalidateNamespaceAsync(string ns)
    {
        if (!_policy.Enabled)
        {
            return;
        }

        Metrics.Invalidated();
        if (!_bus.UsesRedis)
        {
            MoveNamespaceLocally(ns, (_namespaceVersions.TryGetValue(ns, out var current) ? current : 0) + 1, remote: false);
            return;
        }

        long version;
        try
        {
            // The version key outlives every entry written under an older version.
            version = await _bus.BumpAsync(NamespaceKey(ns), _policy.L2Ttl * 2);
        }
        catch (RedisException e)
        {
            // Without the new version nothing local about the namespace can be trusted.
            _namespaceVersions.TryRemove(ns, out _);
            StaleFlights(ns);
            Interlocked.Increment(ref _invalidationMark);
            Metrics.RedisFailed();
            _bus.InvalidationLost(e);
            return;
        }

        MoveNamespaceLocally(ns, version, remote: false);
        await _bus.PublishAsync(CacheMessage.ForNamespace(Name, ns, version));
    }

    /// <summary>Puts a value read elsewhere (warm-up) into L1, unless an invalidation happened since <paramref name="mark"/>.</summary>
    public void Prime(string key, T value, long mark)
    {
        if (_policy.Enabled && _bus.IsSynchronized && InvalidationMark == mark)
        {
            StoreL1(LocalKey(null, key), value, null, 0);
        }
    }

    public CacheStatistics Statistics() => Metrics.Snapshot(Name, _l1.Count);

    void ICacheInstance.OnRemoteKey(string key) => DropLocal(key);

    void ICacheInstance.OnRemoteNamespace(string ns, long version) => MoveNamespaceLocally(ns, version, remote: true);

    void ICacheInstance.ClearLocal()
    {
        Interlocked.Increment(ref _invalidationMark);
        _namespaceVersions.Clear();
        foreach (var flight in _flights.Values)
        {
            flight.Stale = true;
        }

        _flights.Clear();
        _l1.Clear();
    }

    private async Task FillAsync(Flight flight, string? ns, string key, string local, Func<CancellationToken, Task<T?>> load)
    {
        try
        {
            flight.Result.TrySetResult(await ReadThroughAsync(flight, ns, key, local, load));
        }
        catch (Exception e)
        {
            flight.Result.TrySetException(e);
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(local, flight));
        }
    }

    private async Task<T?> ReadThroughAsync(Flight flight, string? ns, string key, string local, Func<CancellationToken, Task<T?>> load)
    {
        var useL2 = _bus.UsesRedis;
        long version = 0;
        if (ns is not null)
        {
            if (await NamespaceVersionAsync(ns) is { } known)
            {
                version = known;
                flight.NamespaceVersion = known;
                if (FromL1(ns, local) is { } hit)
                {
                    Metrics.L1Hit(); // the namespace's version was all that was missing here
                    return hit;
                }
            }
            else
            {
                useL2 = false;
                flight.Stale = true; // no version to file it under
            }
        }

        var l2Key = useL2 ? L2Key(ns, version, key) : null;
        if (l2Key is not null && await FromL2Async(l2Key) is { } stored)
        {
            Metrics.L2Hit();
            if (!flight.Stale)
            {
                StoreL1(local, stored.Value, stored.ExpiresAt, version);
            }

            return stored.Value;
        }

        Metrics.Miss();
        var value = await load(CancellationToken.None);
        if (value is null || flight.Stale)
        {
            return value; // nothing to store, or a write overtook this load: what it read may be old
        }

        var expiresAt = _time.GetUtcNow() + _policy.L2Ttl;
        StoreL1(local, value, expiresAt, version);
        if (l2Key is not null)
        {
            await ToL2Async(l2Key, value, expiresAt);
            if (flight.Stale && ns is null)
            {
                // Invalidated while we wrote: the write may have landed after the invalidation's delete.
                await DeleteQuietlyAsync(l2Key);
            }
        }

        return value;
    }

    private T? FromL1(string? ns, string local)
    {
        var entry = _l1.Get(local, _time.GetUtcNow());
        if (entry is null)
        {
            return null;
        }

        if (ns is not null && (!_namespaceVersions.TryGetValue(ns, out var current) || current != entry.NamespaceVersion))
        {
            if (_namespaceVersions.ContainsKey(ns))
            {
                _l1.Remove(local, entry); // its namespace moved on
            }

            return null;
        }

        return (T)entry.Value;
    }

    private void StoreL1(string local, T value, DateTimeOffset? l2ExpiresAt, long version)
    {
        // An L1 copy never outlives the L2 entry it came from, so a cache's lifetime bounds staleness.
        var expiresAt = _time.GetUtcNow() + _policy.L1Ttl;
        if (l2ExpiresAt < expiresAt)
        {
            expiresAt = l2ExpiresAt.Value;
        }

        Metrics.Evicted(_l1.Set(new L1Entry(local, value, expiresAt, version)));
    }

    private async Task<long?> NamespaceVersionAsync(string ns)
    {
        if (_namespaceVersions.TryGetValue(ns, out var known))
        {
            return known;
        }

        if (!_bus.UsesRedis)
        {
            return _namespaceVersions.GetOrAdd(ns, 0);
        }

        try
        {
            var stored = await Redis.GetAsync(NamespaceKey(ns));
            var version = stored is null ? 0 : long.Parse(System.Text.Encoding.ASCII.GetString(stored), System.Globalization.CultureInfo.InvariantCulture);
            if (_namespaceVersions.Count >= MaxKnownNamespaces)
            {
                _namespaceVersions.Clear(); // forgetting a version only costs a GET to learn it again
            }

            // A message may have brought a newer version while we asked: keep the larger.
            return _namespaceVersions.AddOrUpdate(ns, version, (_, current) => Math.Max(current, version));
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
            return null;
        }
    }

    private async Task<(T Value, DateTimeOffset ExpiresAt)?> FromL2Async(string l2Key)
    {
        byte[]? bytes;
        try
        {
            bytes = await Redis.GetAsync(l2Key);
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
            return null;
        }

        if (bytes is null || bytes.Length < sizeof(long))
        {
            return null;
        }

        try
        {
            var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes));
            return JsonSerializer.Deserialize(bytes.AsSpan(sizeof(long)), _json) is { } value ? (value, expiresAt) : null;
        }
        catch (JsonException)
        {
            return null; // written by another release in another shape: a miss
        }
    }

    private async Task ToL2Async(string l2Key, T value, DateTimeOffset expiresAt)
    {
        // The envelope carries the absolute expiry so an L1 copy made from it expires no later.
        var json = JsonSerializer.SerializeToUtf8Bytes(value, _json);
        var bytes = new byte[sizeof(long) + json.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, expiresAt.ToUnixTimeMilliseconds());
        json.CopyTo(bytes, sizeof(long));
        try
        {
            await Redis.SetAsync(l2Key, bytes, _policy.L2Ttl);
        }
        catch (RedisException)
        {
            Metrics.RedisFailed();
        }
    }

    private async Task DeleteQuietlyAsync(string l2Key)
    {
        try
        {
            await Redis.DeleteAsync([l2Key]);
        }
        catch (RedisException e)
        {
            Metrics.RedisFailed();
            _bus.InvalidationLost(e);
        }
    }

    private void DropAllLocal(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            DropLocal(key);
        }
    }

    private void DropLocal(string key)
    {
        var local = LocalKey(null, key);
        Interlocked.Increment(ref _invalidationMark);
        if (_flights.TryRemove(local, out var flight))
        {
            flight.Stale = true; // it may have read the old value; later readers start afresh
        }

        _l1.Remove(local);
    }

    private void MoveNamespaceLocally(string ns, long version, bool remote)
    {
        Interlocked.Increment(ref _invalidationMark);
        _namespaceVersions.AddOrUpdate(ns, version, (_, current) => Math.Max(current, version));
        StaleFlights(ns, remote ? version : null);
    }

    private void StaleFlights(string ns, long? version = null)
    {
        foreach (var (local, flight) in _flights)
        {
            if (flight.Namespace == ns && (version is null || flight.NamespaceVersion < version))
            {
                flight.Stale = true;
                _flights.TryRemove(new KeyValuePair<string, Flight>(local, flight));
            }
        }
    }

    private static string LocalKey(string? ns, string key) => ns is null ? key : $"{ns}\n{key}";

    private string NamespaceKey(string ns) => $"cache:ns:{Name}:{ns}";

    private string L2Key(string? ns, long version, string key) =>
        ns is null ? $"cache:{_bus.Epoch}:{Name}:{key}" : $"cache:{_bus.Epoch}:{Name}:{ns}:v{version}:{key}";

    /// <summary>One load in progress, shared by every reader of its key that arrives meanwhile.</summary>
    private sealed class Flight(string? ns)
    {
        public TaskCompletionSource<T?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string? Namespace { get; } = ns;

        public long NamespaceVersion { get; set; }

        /// <summary>An invalidation overtook it: what it loaded is answered but not stored.</summary>
        public volatile bool Stale;
    }
}
