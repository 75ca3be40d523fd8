using System.Collections.Concurrent;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// Background loops report a heartbeat each pass; readiness fails when one has been silent for three
/// of its intervals (stuck or dead), so the platform replaces an instance whose workers have stopped.
/// </summary>
public sealed class BackgroundLoopMonitor(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, LoopEntry> _loops = new(StringComparer.Ordinal);

    public void Register(string name, TimeSpan interval) =>
        _loops[name] = new LoopEntry(interval, time.GetUtcNow());

    public void Beat(string name)
    {
        if (_loops.TryGetValue(name, out var entry))
        {
            entry.LastBeat = time.GetUtcNow();
        }
    }

    public void Unregister(string name) => _loops.TryRemove(name, out _);

    public IReadOnlyList<LoopStatus> Snapshot()
    {
        var now = time.GetUtcNow();
        return [.. _loops.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
        {
            var silentFor = now - kv.Value.LastBeat;
            return new LoopStatus(kv.Key, kv.Value.LastBeat, silentFor, silentFor <= kv.Value.Interval * 3);
        })];
    }

    private sealed class LoopEntry(TimeSpan interval, DateTimeOffset lastBeat)
    {
        public TimeSpan Interval { get; } = interval;

        public DateTimeOffset LastBeat { get; set; } = lastBeat;
    }
}

public sealed record LoopStatus(string Name, DateTimeOffset LastBeat, TimeSpan SilentFor, bool Alive);
