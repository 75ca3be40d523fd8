namespace AgentCrm.Core.Durable.Api;

/// <summary>Thrown in an orchestrator when an activity failed for good (after its retries).</summary>
public sealed class TaskFailedException : Exception
{
    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failure)
        : base($"Task '{taskName}' (#{taskId}) failed after {failure.Attempts} attempt(s): {failure.ErrorType}: {failure.ErrorMessage}")
    {
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failure;
    }

    public TaskFailedException() : this("unknown", -1, new TaskFailureDetails("unknown", "unknown", null)) { }

    public TaskFailedException(string message) : base(message) => (TaskName, FailureDetails) = ("unknown", new("unknown", message, null));

    public TaskFailedException(string message, Exception innerException) : base(message, innerException) =>
        (TaskName, FailureDetails) = ("unknown", TaskFailureDetails.From(innerException));

    public string TaskName { get; }

    public int TaskId { get; }

    public TaskFailureDetails FailureDetails { get; }
}

/// <summary>A replay found the orchestrator doing something other than what its history records.</summary>
public sealed class NonDeterministicOrchestrationException : Exception
{
    public NonDeterministicOrchestrationException() { }

    public NonDeterministicOrchestrationException(string message) : base(message) { }

    public NonDeterministicOrchestrationException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Start with an instance id that is already in use by an instance that has not finished.</summary>
public sealed class OrchestrationAlreadyExistsException : Exception
{
    public OrchestrationAlreadyExistsException() { }

    public OrchestrationAlreadyExistsException(string message) : base(message) { }

    public OrchestrationAlreadyExistsException(string message, Exception innerException) : base(message, innerException) { }
}
