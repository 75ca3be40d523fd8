using System.Collections.Concurrent;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Workers;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Queues;

/// <summary>
/// Feeds one queue's handler: leases batches (up to the free concurrency) with the engine's polling loop,
/// renews the leases of running handlers every third of the visibility timeout in one statement, and records
/// each outcome under the lease: delete on success; on failure a retry after a growing delay, or, at the
/// queue's MaxDequeueCount, the dead letters. A failing message waits apart, so it never blocks the others.
/// </summary>
internal sealed partial class QueueConsumer(
    QueueHandlerRegistration registration, QueueStore store, DurableOptions durable, WorkerIdentity identity, DurableWakeUps wakeUps,
    BackgroundLoopMonitor monitor, IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<QueueConsumer> logger)
{
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();
    private readonly QueueHandlerOptions _options = registration.Options;

    private string Queue => registration.Queue;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var loopOptions = durable with { BatchSize = _options.BatchSize, Lease = _options.VisibilityTimeout };
        var loop = new PollingLoop<QueueMessage>("queue:" + Queue, new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency), loopOptions,
            wakeUps.MessageQueue(Queue), monitor, time,
            (count, ct) => store.LockAsync(Queue, identity.Owner, _options.VisibilityTimeout, count, ct),
            (message, _) => RunOneAsync(message),
            ct => store.NextDueAsync(Queue, ct));
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewals = RenewLoopAsync(renewing.Token);
        await loop.RunAsync(stoppingToken);
        await renewing.CancelAsync();
        await renewals;
    }

    private async Task RunOneAsync(QueueMessage message)
    {
        try
        {
            await HandleAsync(message);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            // Recording failed: the lease lapses and the message is delivered again (at least once).
            LogRecordFailed(logger, ex, Queue, message.Id);
        }
    }

    private async Task HandleAsync(QueueMessage message)
    {
        if (message.DequeueCount > _options.MaxDequeueCount)
        {
            // Delivered that often without an outcome: its handler keeps killing the worker.
            var poison = new TaskFailureDetails("PoisonMessage",
                $"Message {message.Id} on queue '{Queue}' was delivered {message.DequeueCount - 1} times without finishing (its worker died each time).", null, message.DequeueCount - 1);
            await DeadLetterAsync(message, poison);
            return;
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        _running[message.Id] = cancellation;
        Exception? failure = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await registration.Handler(new QueueMessageContext(message, scope.ServiceProvider, cancellation.Token));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
        }
        finally
        {
            _running.TryRemove(message.Id, out _);
        }

        if (failure is null)
        {
            Record(await store.CompleteAsync(message, identity.Owner, CancellationToken.None), message, "completed");
            return;
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Stopping is not the message's fault: give the delivery back for another worker to take now.
            Record(await store.RetryAsync(message, identity.Owner, TimeSpan.Zero, null, countDelivery: false, CancellationToken.None), message, "released");
            wakeUps.QueueMessageWork(Queue);
            return;
        }

        var details = TaskFailureDetails.From(failure, message.DequeueCount);
        if (message.DequeueCount >= _options.MaxDequeueCount)
        {
            await DeadLetterAsync(message, details);
            return;
        }

        var delay = _options.RetryDelayAfter(message.DequeueCount);
        LogRetrying(logger, Queue, message.Id, message.DequeueCount, details.ErrorType, details.ErrorMessage, delay.TotalMilliseconds);
        Record(await store.RetryAsync(message, identity.Owner, delay, DurableJson.Serialize(details), countDelivery: true, CancellationToken.None), message, "retried");
    }

    private async Task DeadLetterAsync(QueueMessage message, TaskFailureDetails details)
    {
        var moved = await store.DeadLetterAsync(message, identity.Owner, DurableJson.Serialize(details)!, CancellationToken.None);
        if (moved)
        {
            LogDeadLettered(logger, Queue, message.Id, message.DequeueCount, details.ErrorType, details.ErrorMessage);
        }

        Record(moved, message, "dead_lettered");
    }

    private void Record(bool held, QueueMessage message, string outcome)
    {
        if (held)
        {
            QueueStatistics.Finished(Queue, outcome);
        }
        else
        {
            // The lease lapsed and another delivery began: that one decides; this outcome is dropped.
            LogLeaseLost(logger, Queue, message.Id, outcome);
        }
    }

    private async Task RenewLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.VisibilityTimeout / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var ids = _running.Keys.ToArray();
                if (ids.Length == 0)
                {
                    continue;
                }

                try
                {
                    foreach (var id in await store.RenewAsync(identity.Owner, ids, _options.VisibilityTimeout, stoppingToken))
                    {
                        if (_running.TryGetValue(id, out var cancellation))
                        {
                            await CancelQuietlyAsync(cancellation);
                        }
                    }
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    // The next tick tries again: a lease outlives two missed renewals.
                    LogRenewFailed(logger, Queue, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private static async Task CancelQuietlyAsync(CancellationTokenSource cancellation)
    {
        try
        {
            await cancellation.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // the delivery finished meanwhile
        }
    }

    [LoggerMessage(EventId = 6030, Level = LogLevel.Information, Message = "Queue {Queue} message {MessageId} failed delivery {DequeueCount} ({ErrorType}: {ErrorMessage}); retrying in {DelayMs:0} ms")]
    private static partial void LogRetrying(ILogger logger, string queue, long messageId, int dequeueCount, string errorType, string errorMessage, double delayMs);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning, Message = "Queue {Queue} message {MessageId} was dead-lettered after {DequeueCount} deliveries ({ErrorType}: {ErrorMessage})")]
    private static partial void LogDeadLettered(ILogger logger, string queue, long messageId, int dequeueCount, string errorType, string errorMessage);

    [LoggerMessage(EventId = 6032, Level = LogLevel.Warning, Message = "Lease on queue {Queue} message {MessageId} was lost before its outcome ({Outcome}) was recorded: possible duplicate execution")]
    private static partial void LogLeaseLost(ILogger logger, string queue, long messageId, string outcome);

    [LoggerMessage(EventId = 6033, Level = LogLevel.Warning, Message = "Could not record the outcome of queue {Queue} message {MessageId}; it is delivered again when its lease lapses")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string queue, long messageId);

    [LoggerMessage(EventId = 6034, Level = LogLevel.Warning, Message = "Renewing queue {Queue} leases failed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string queue, string reason);
}
