namespace AgentCrm.Core.Platform.Configuration;

/// <summary>One thing wrong with one setting, said so an operator can fix it without reading code.</summary>
public sealed record ConfigurationProblem(string Setting, string Problem, string Example)
{
    /// <summary>The environment-variable spelling of <see cref="Setting"/> (":" becomes "__").</summary>
    public string EnvironmentVariable => Setting.Replace(":", "__", StringComparison.Ordinal);

    public override string ToString() =>
        Setting == EnvironmentVariable
            ? $"{Setting}: {Problem}. Example: {Example}"
            : $"{Setting} (env {EnvironmentVariable}): {Problem}. Example: {Example}";
}
