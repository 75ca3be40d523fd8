namespace AgentCrm.Core.Platform.Problems;

/// <summary>One documented kind of error: its stable URI, status and title (RFC 9457 §3.1).</summary>
public sealed record ProblemType(string Slug, int Status, string Title)
{
    public const string BaseUri = "https://agentcrm.dev/problems/";

    public string Uri { get; } = BaseUri + Slug;
}
