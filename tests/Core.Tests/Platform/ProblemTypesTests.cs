using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Tests.Platform;

public class ProblemTypesTests
{
    [Fact]
    public void Docs_explain_every_problem_type()
    {
        var docs = File.ReadAllText(AgentCrm.Tests.Support.RepoPaths.Path("docs", "errors.md"));

        var missing = ProblemTypes.All.Where(t => !docs.Contains(t.Uri, StringComparison.Ordinal)).Select(t => t.Slug).ToList();
        Assert.True(missing.Count == 0, "docs/errors.md lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public void Slugs_are_unique()
    {
        Assert.Equal(ProblemTypes.All.Count, ProblemTypes.All.Select(t => t.Slug).Distinct().Count());
    }

    [Theory]
    [InlineData(404, "not-found")]
    [InlineData(405, "method-not-allowed")]
    [InlineData(413, "payload-too-large")]
    [InlineData(415, "unsupported-media-type")]
    [InlineData(429, "rate-limited")]
    [InlineData(500, "internal")]
    [InlineData(502, "internal")]
    [InlineData(400, "bad-request")]
    public void Bare_statuses_map_to_documented_types(int status, string slug)
    {
        Assert.Equal(slug, ProblemTypes.ForStatus(status).Slug);
    }
}
