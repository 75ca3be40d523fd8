using System.Globalization;
using AgentCrm.Core.Durable.Api;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Durable.Runtime;

/// <summary>
/// One execution of an orchestrator, kept in memory between turns while its worker is the one that
/// advances it (sticky execution). Built fresh it replays the stored history first, checking that the
/// code schedules exactly what the history records; then each turn applies new messages, lets the code
/// run until it waits again, and returns what to commit.
/// </summary>
internal sealed partial class OrchestrationExecution : TaskOrchestrationContext
{
    private static readonly Guid GuidNamespace = new("9e952958-5e33-4daf-827f-2fa12937b875");

    private readonly DeterministicScheduler _scheduler = new();
    private readonly OrchestratorRegistration _registration;
    private readonly Func<string, string> _defaultVersion;
    private readonly ILoggerFactory _loggers;
    private readonly int _maxPayloadBytes;
    private readonly Dictionary<int, PendingTask> _pending = [];
    private readonly Dictionary<int, (EventKind Kind, string? Name)> _unmatched = [];
    private readonly Dictionary<string, Queue<HistoryEvent>> _buffered = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _waiters = new(StringComparer.OrdinalIgnoreCase);
    private List<HistoryEvent> _turnHistory = [];
    private List<OutboxAction> _outbox = [];
    private Task<string?>? _run;
    private int _nextTaskId;
    private int _guidCounter;
    private bool _replaying;
    private (string? Input, bool PreserveEvents)? _continueAsNew;
    private string? _customStatus;
    private bool _customStatusChanged;
    private bool _terminated;
    private string? _terminationOutput;
    private DateTime _now;
    private string? _input;
    private int _events;
    private long _bytes;

    public OrchestrationExecution(
        string instanceId, Guid executionId, OrchestratorRegistration registration, Func<string, string> defaultVersion, ILoggerFactory loggers,
        int maxPayloadBytes = 2 * 1024 * 1024)
    {
        _maxPayloadBytes = maxPayloadBytes;
        InstanceId = instanceId;
        ExecutionId = executionId;
        _registration = registration;
        _defaultVersion = defaultVersion;
        _loggers = loggers;
    }

    public override string InstanceId { get; }

    public Guid ExecutionId { get; }

    public override string Name => _registration.Name;

    public override string Version => _registration.Version;

    public override DateTime CurrentUtcDateTime => _now;

    public override bool IsReplaying => _replaying;

    public override (int Events, long Bytes) HistorySize => (_events, _bytes);

    /// <summary>Rebuilds in-memory state from stored history. Throws <see cref="NonDeterministicOrchestrationException"/> on a mismatch.</summary>
    public void Replay(IReadOnlyList<HistoryEvent> history)
    {
        _replaying = true;
        foreach (var e in history)
        {
            // Actions were counted when the code scheduled them (NewAction), as they are live.
            if (e.Kind is not (EventKind.TaskScheduled or EventKind.TimerCreated or EventKind.SubOrchestrationCreated or EventKind.EventSent))
            {
                Count(e);
            }

            Apply(e);
        }

        if (_unmatched.Count > 0)
        {
            var (id, action) = _unmatched.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).First();
            throw NonDeterminism($"on replay the code scheduled {Describe(action.Kind, action.Name)} as task {id}, which the history does not record");
        }

        if (_run is { IsCompleted: true })
        {
            throw NonDeterminism("on replay the orchestrator finished, but the history records it still running");
        }

        _replaying = false;
    }

    /// <summary>Applies new messages as one turn and returns what to commit.</summary>
    public TurnResult RunTurn(IReadOnlyList<HistoryEvent> messages, DateTime now)
    {
        _turnHistory = [];
        _outbox = [];
        _customStatusChanged = false;
        Record(new HistoryEvent(EventKind.OrchestratorStarted, -1, null, null, now));
        var applied = 0;
        foreach (var message in messages)
        {
            applied++;
            switch (message.Kind)
            {
                case EventKind.ExecutionTerminated:
                    _terminated = true;
                    _terminationOutput = message.Payload;
                    break;
                case EventKind.TaskAttemptFailed:
                    DecideRetry(message);
                    break;
                default:
                    Record(message);
                    break;
            }

            if (_terminated || _run is { IsCompleted: true })
            {
                break; // later messages are for an execution that has ended
            }
        }

        var outcome = Outcome();
        if (outcome is not null)
        {
            var end = OutcomeEvent(outcome);
            _turnHistory.Add(end);
            Count(end);
        }

        return new TurnResult(_turnHistory, _outbox, outcome, _customStatus, _customStatusChanged) { AppliedMessages = applied };
    }

    private void Record(HistoryEvent e)
    {
        _turnHistory.Add(e);
        Count(e);
        Apply(e);
    }

    private void Count(HistoryEvent e)
    {
        _events++;
        _bytes += e.Size;
    }

    private void Apply(HistoryEvent e)
    {
        switch (e.Kind)
        {
            case EventKind.OrchestratorStarted:
                _now = e.Timestamp;
                break;
            case EventKind.ExecutionStarted:
                _input = e.Payload;
                _run = Task.Factory.StartNew(() => _registration.RunAsync(this), CancellationToken.None, TaskCreationOptions.None, _scheduler).Unwrap();
                break;
            case EventKind.TaskScheduled or EventKind.TimerCreated or EventKind.SubOrchestrationCreated or EventKind.EventSent:
                MatchRecordedAction(e);
                break;
            case EventKind.TaskCompleted or EventKind.TimerFired or EventKind.SubOrchestrationCompleted:
                if (_pending.Remove(e.TaskId, out var done))
                {
                    done.Completion.TrySetResult(e.Payload);
                }

                break;
            case EventKind.TaskFailed or EventKind.SubOrchestrationFailed:
                if (_pending.Remove(e.TaskId, out var failed))
                {
                    var details = DurableJson.Deserialize<TaskFailureDetails>(e.Payload) ?? new TaskFailureDetails("Unknown", "No failure details recorded.", null);
                    failed.Completion.TrySetException(new TaskFailedException(failed.Name, e.TaskId, details));
                }

                break;
            case EventKind.EventRaised:
                Deliver(e);
                break;
        }

        _scheduler.Drain();
    }

    private void MatchRecordedAction(HistoryEvent recorded)
    {
        if (!_replaying)
        {
            return;
        }

        if (!_unmatched.Remove(recorded.TaskId, out var produced))
        {
            throw NonDeterminism($"the history records {Describe(recorded.Kind, recorded.Name)} as task {recorded.TaskId}, but on replay the code did not schedule it");
        }

        if (produced.Kind != recorded.Kind || !string.Equals(produced.Name, recorded.Name, StringComparison.Ordinal))
        {
            throw NonDeterminism($"the history records {Describe(recorded.Kind, recorded.Name)} as task {recorded.TaskId}, but on replay the code scheduled {Describe(produced.Kind, produced.Name)}");
        }
    }

    private NonDeterministicOrchestrationException NonDeterminism(string what) =>
        new($"Non-deterministic orchestration '{Name}' (instance {InstanceId}): {what}. Orchestrator code must make the same calls in the same order on every replay; change behaviour with a new orchestration version.");

    private static string Describe(EventKind kind, string? name) => kind switch
    {
        EventKind.TaskScheduled => $"activity '{name}'",
        EventKind.TimerCreated => "a timer",
        EventKind.SubOrchestrationCreated => $"sub-orchestration '{name}'",
        EventKind.EventSent => $"sending event '{name}'",
        _ => kind.ToString(),
    };

    private ExecutionOutcome? Outcome()
    {
        if (_terminated)
        {
            return new TerminatedOutcome(_terminationOutput);
        }

        if (_run is not { IsCompleted: true } run)
        {
            return null;
        }

        if (run.IsFaulted)
        {
            var error = run.Exception!.InnerExceptions.Count == 1 ? run.Exception.InnerException! : run.Exception;
            return new FailedOutcome(TaskFailureDetails.From(error));
        }

        if (run.IsCanceled)
        {
            return new FailedOutcome(new TaskFailureDetails(typeof(TaskCanceledException).FullName!, "The orchestrator was cancelled.", null));
        }

        if (_continueAsNew is { } next)
        {
            var carried = next.PreserveEvents ? _buffered.Values.SelectMany(q => q).ToList() : [];
            return new ContinuedAsNewOutcome(next.Input, carried);
        }

        // Checked here, not by the store: the instance fails readably instead of a turn that can never commit.
        return run.Result?.Length > _maxPayloadBytes
            ? new FailedOutcome(TaskFailureDetails.From(PayloadTooLarge(run.Result.Length, $"output of orchestration '{Name}'")))
            : new CompletedOutcome(run.Result);
    }

    private HistoryEvent OutcomeEvent(ExecutionOutcome outcome) => outcome switch
    {
        CompletedOutcome c => new HistoryEvent(EventKind.ExecutionCompleted, -1, null, c.Output, _now),
        FailedOutcome f => new HistoryEvent(EventKind.ExecutionFailed, -1, null, DurableJson.Serialize(f.Failure), _now),
        TerminatedOutcome t => new HistoryEvent(EventKind.ExecutionTerminated, -1, null, t.Output, _now),
        ContinuedAsNewOutcome n => new HistoryEvent(EventKind.ContinuedAsNew, -1, null, n.Input, _now),
        _ => throw new InvalidOperationException("Unknown outcome."),
    };

    private sealed record PendingTask(string Name, TaskCompletionSource<string?> Completion, TaskOptions? Options);
}
