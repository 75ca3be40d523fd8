using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>A queue's handler and how it is fed (one per queue name in a build).</summary>
public sealed record QueueHandlerRegistration(string Queue, Func<QueueMessageContext, Task> Handler, QueueHandlerOptions Options);

/// <summary>Registers queue handlers (features call this; so do tests). The engine's queue services come with AddDurableEngine.</summary>
public static class QueueServices
{
    /// <exception cref="ArgumentException">The name or options are invalid, or the queue already has a handler: one message lists every problem.</exception>
    public static IServiceCollection AddQueueHandler(this IServiceCollection services, string queue, Func<QueueMessageContext, Task> handler, QueueHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new QueueHandlerOptions();
        var problems = new List<string>();
        if (QueueNames.Problem(queue) is { } nameProblem)
        {
            problems.Add(nameProblem);
        }

        problems.AddRange(options.Problems());
        if (services.Any(d => d.ImplementationInstance is QueueHandlerRegistration r && r.Queue == queue))
        {
            problems.Add("a handler is already registered for it");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Queue handler '{queue}' cannot be registered: {string.Join("; ", problems)}.", nameof(options));
        }

        return services.AddSingleton(new QueueHandlerRegistration(queue, handler, options));
    }
}

/// <summary>What a queue may be called: short, and safe in a NOTIFY payload, a metric tag and a URL.</summary>
public static class QueueNames
{
    public const int MaxLength = 100;

    /// <summary>Null when <paramref name="queue"/> is a valid name; else why not.</summary>
    public static string? Problem(string? queue)
    {
        if (string.IsNullOrEmpty(queue))
        {
            return "a queue name must not be empty";
        }

        if (queue.Length > MaxLength)
        {
            return $"a queue name is at most {MaxLength} characters (this one has {queue.Length})";
        }

        return queue.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? null
            : $"queue name '{queue}' may hold only ASCII letters, digits and - _ . :";
    }
}
