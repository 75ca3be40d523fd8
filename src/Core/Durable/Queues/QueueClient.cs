using System.Text;
using System.Text.Json;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Workers;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>
/// Puts messages on named queues. A queue needs no handler in this build (another build sharing the task
/// hub may serve it); bad requests (a bad name, an oversized or malformed payload) fail here, before
/// anything is stored. After the commit, this process's pollers are woken at once and others by NOTIFY.
/// </summary>
public sealed class QueueClient(QueueStore store, DurableOptions options, DurableWakeUps wakeUps)
{
    public const int MaxDedupeKeyLength = 256;
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    /// <summary>Enqueues <paramref name="payload"/> serialised as the engine serialises inputs (a string becomes a JSON string).</summary>
    public Task<EnqueueResult> EnqueueAsync(string queue, object? payload, QueueMessageOptions? message = null, CancellationToken cancellationToken = default) =>
        EnqueueCoreAsync(queue, DurableJson.Serialize(payload) ?? "null", wellFormed: true, message, cancellationToken);

    /// <summary>Enqueues JSON text as it is (it must be well-formed: a handler could never read it otherwise).</summary>
    public Task<EnqueueResult> EnqueueJsonAsync(string queue, string json, QueueMessageOptions? message = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(json);
        return EnqueueCoreAsync(queue, json, wellFormed: false, message, cancellationToken);
    }

    private async Task<EnqueueResult> EnqueueCoreAsync(string queue, string json, bool wellFormed, QueueMessageOptions? message, CancellationToken cancellationToken)
    {
        ValidateQueue(queue);
        var delay = ValidateOptions(message);
        ValidatePayload(json, wellFormed ? "payload" : nameof(json), wellFormed);
        var result = await store.EnqueueAsync(queue, json, message?.DedupeKey, delay, message?.Scope, cancellationToken);
        if (!result.Duplicate && delay == TimeSpan.Zero)
        {
            wakeUps.QueueMessageWork(queue);
        }

        return result;
    }

    /// <summary>Enqueues many payloads in one statement (no dedupe keys); ids in payload order.</summary>
    public async Task<IReadOnlyList<long>> EnqueueManyAsync(string queue, IEnumerable<object?> payloads, QueueMessageOptions? message = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        ValidateQueue(queue);
        var delay = ValidateOptions(message);
        if (message?.DedupeKey is not null)
        {
            throw new ArgumentException("A batch cannot carry a dedupe key: enqueue keyed messages one at a time.", nameof(message));
        }

        var json = payloads.Select(p => DurableJson.Serialize(p) ?? "null").ToArray();
        foreach (var one in json)
        {
            ValidatePayload(one, nameof(payloads), wellFormed: true);
        }

        if (json.Length == 0)
        {
            return [];
        }

        var ids = await store.EnqueueManyAsync(queue, json, delay, message?.Scope, cancellationToken);
        if (delay == TimeSpan.Zero)
        {
            wakeUps.QueueMessageWork(queue);
        }

        return ids;
    }

    private static void ValidateQueue(string queue)
    {
        if (QueueNames.Problem(queue) is { } problem)
        {
            throw new ArgumentException($"Cannot enqueue: {problem}.", nameof(queue));
        }
    }

    private static TimeSpan ValidateOptions(QueueMessageOptions? message)
    {
        if (message?.DedupeKey is { } key && (key.Length == 0 || key.Length > MaxDedupeKeyLength))
        {
            throw new ArgumentException($"A dedupe key must be 1–{MaxDedupeKeyLength} characters (this one has {key.Length}).", nameof(message));
        }

        var delay = message?.Delay ?? TimeSpan.Zero;
        if (delay < TimeSpan.Zero || delay > MaxDelay)
        {
            throw new ArgumentException($"A message delay must be between 0 and {MaxDelay.TotalDays} days (was {delay}).", nameof(message));
        }

        return delay;
    }

    private void ValidatePayload(string json, string parameter, bool wellFormed)
    {
        // Characters bound bytes from below; count bytes only when the text could be near the limit.
        var bytes = json.Length * 3 <= options.MaxPayloadBytes ? json.Length : Encoding.UTF8.GetByteCount(json);
        if (bytes > options.MaxPayloadBytes)
        {
            throw new ArgumentException($"The payload is {bytes} bytes; the limit is {options.MaxPayloadBytes} (Durable__MaxPayloadBytes).", parameter);
        }

        if (wellFormed)
        {
            return; // our own serialiser wrote it
        }

        try
        {
            using var _ = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The payload is not well-formed JSON: {ex.Message}", parameter, ex);
        }
    }
}
