using AgentCrm.Core.Durable.Runtime;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>
/// One delivery of a message to its handler. Delivery is at least once: a handler whose worker dies, or
/// that throws, sees the same <see cref="MessageId"/> again, so side effects should be keyed by it.
/// </summary>
public sealed class QueueMessageContext
{
    internal QueueMessageContext(QueueMessage message, IServiceProvider services, CancellationToken cancellationToken)
    {
        MessageId = message.Id;
        Queue = message.Queue;
        Payload = message.Payload;
        DequeueCount = message.DequeueCount;
        InsertedAt = DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc);
        Scope = message.Scope;
        Services = services;
        CancellationToken = cancellationToken;
    }

    public long MessageId { get; }

    public string Queue { get; }

    /// <summary>The payload as stored: JSON text.</summary>
    public string Payload { get; }

    /// <summary>1 on the first delivery; each redelivery (after a failure or a lost lease) adds one.</summary>
    public int DequeueCount { get; }

    public DateTime InsertedAt { get; }

    /// <summary>The owning workspace the message was enqueued with, if any.</summary>
    public string? Scope { get; }

    /// <summary>Services of a scope that lives for this delivery.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Cancelled when the app stops or this worker lost the message's lease (another may be running it).</summary>
    public CancellationToken CancellationToken { get; }

    public T? GetPayload<T>() => DurableJson.Deserialize<T>(Payload);
}

/// <summary>A leased message, as the store returns it.</summary>
internal sealed record QueueMessage(long Id, string Queue, string Payload, string? Scope, int DequeueCount, long Epoch, DateTime CreatedAt);
