namespace AgentCrm.Core.Platform.Caching;

/// <summary>
/// The in-process layer of one cache: at most <c>capacity</c> entries, least recently used evicted first,
/// each with an absolute expiry. One lock around a dictionary and a list: every operation is O(1) and
/// holds the lock for well under a microsecond, which two cores never notice.
/// </summary>
internal sealed class L1Store(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<L1Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<L1Entry> _recency = new(); // most recently used first
    private readonly Lock _lock = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The live entry under <paramref name="key"/>; an expired one is dropped and not answered.</summary>
    public L1Entry? Get(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            if (node.Value.ExpiresAt <= now)
            {
                Unlink(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }
    }

    /// <summary>Stores an entry (replacing any under its key); answers how many others were evicted to make room.</summary>
    public int Set(L1Entry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.Key, out var existing))
            {
                Unlink(existing);
            }

            var evicted = 0;
            while (_entries.Count >= Capacity && _recency.Last is { } oldest)
            {
                Unlink(oldest);
                evicted++;
            }

            _entries[entry.Key] = _recency.AddFirst(entry);
            return evicted;
        }
    }

    public bool Remove(string key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return false;
            }

            Unlink(node);
            return true;
        }
    }

    /// <summary>Drops the entry under <paramref name="key"/> only if it is still <paramref name="entry"/>.</summary>
    public void Remove(string key, L1Entry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node) && ReferenceEquals(node.Value, entry))
            {
                Unlink(node);
            }
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            _recency.Clear();
        }
    }

    private void Unlink(LinkedListNode<L1Entry> node)
    {
        _entries.Remove(node.Value.Key);
        _recency.Remove(node);
    }
}

/// <summary>
/// One L1 copy. <see cref="NamespaceVersion"/> is the version of its namespace it was read under (0 when
/// it has none): a copy whose namespace has moved on is stale.
/// </summary>
internal sealed record L1Entry(string Key, object Value, DateTimeOffset ExpiresAt, long NamespaceVersion);
