namespace AgentCrm.Core.Platform.Configuration;

/// <summary>Thrown once at start-up with every configuration problem found, never one at a time.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<ConfigurationProblem> problems)
        : base(Format(problems)) => Problems = problems;

    public ConfigurationException() : this([]) { }

    public ConfigurationException(string message) : base(message) => Problems = [];

    public ConfigurationException(string message, Exception innerException) : base(message, innerException) => Problems = [];

    public IReadOnlyList<ConfigurationProblem> Problems { get; }

    private static string Format(IReadOnlyList<ConfigurationProblem> problems)
    {
        var noun = problems.Count == 1 ? "problem" : "problems";
        var lines = problems.Select(p => "  - " + p);
        return $"AgentCrm cannot start: {problems.Count} configuration {noun}.{Environment.NewLine}"
            + string.Join(Environment.NewLine, lines);
    }
}
