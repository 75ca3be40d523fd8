namespace AgentCrm.Core.Durable.Api;

/// <summary>
/// Why an activity, sub-orchestration or orchestration failed: the error's type name, message and stack
/// trace as text (exceptions do not survive serialisation), and how many attempts were made.
/// </summary>
public sealed record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace, int Attempts = 1)
{
    public static TaskFailureDetails From(Exception exception, int attempts = 1) =>
        new(exception is DurableLimitException limit ? limit.ErrorType : exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message, exception.StackTrace, attempts);

    /// <summary>True when the error was of type <typeparamref name="T"/> (or derived, when the type can be loaded).</summary>
    public bool IsCausedBy<T>() where T : Exception
    {
        if (ErrorType == typeof(T).FullName)
        {
            return true;
        }

        var type = Type.GetType(ErrorType) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(ErrorType)).FirstOrDefault(t => t is not null);
        return type is not null && typeof(T).IsAssignableFrom(type);
    }
}
