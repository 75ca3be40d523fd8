using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace AgentCrm.Core.Tests.Platform;

public class SettingsTests
{
    private const string ValidPostgres = "Host=127.0.0.1;Port=5432;Database=agentcrm;Username=app;Password=pw";

    [Fact]
    public void Every_problem_is_reported_at_once_with_setting_env_name_and_example()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(new()
        {
            ["Http:MaxRequestBodyBytes"] = "lots",
            ["Background:Enabled"] = "sometimes",
            ["Observability:OtlpEndpoint"] = "not a url",
            ["Observability:SamplingRatio"] = "2",
            ["Auth:SigningKey"] = null,
        }));

        Assert.Equal(6, error.Problems.Count);
        Assert.Contains("6 configuration problems", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:SigningKey (env Auth__SigningKey): is missing. Example: a random secret of at least 32 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("Postgres:Pooled (env Postgres__Pooled): is missing. Example: Host=", error.Message, StringComparison.Ordinal);
        Assert.Contains("Http:MaxRequestBodyBytes (env Http__MaxRequestBodyBytes): must be a whole number from 1024 to 104857600, got \"lots\". Example: 1048576", error.Message, StringComparison.Ordinal);
        Assert.Contains("Background:Enabled (env Background__Enabled): must be true or false, got \"sometimes\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("Observability:OtlpEndpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("Observability:SamplingRatio", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_connection_string_is_reported_without_echoing_its_password()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(new() { ["Postgres:Pooled"] = "Host=x;Password=hunter2-secret;NoSuchKeyword=1" }));

        var problem = Assert.Single(error.Problems);
        Assert.Equal("Postgres:Pooled", problem.Setting);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_apply_when_only_the_required_setting_is_given()
    {
        var settings = Load(new() { ["Postgres:Pooled"] = ValidPostgres });

        Assert.Equal(1024 * 1024, settings.Http.MaxRequestBodyBytes);
        Assert.True(settings.Background.Enabled);
        Assert.Equal("http://localhost:7071", settings.Hosting.ListenUrl);
        Assert.False(settings.Hosting.UnderFunctionsHost);
        Assert.Null(settings.Observability.OtlpEndpoint);
        Assert.Equal(0.1, settings.Observability.SamplingRatio); // Production samples a tenth by default
        Assert.Contains("Database=agentcrm", settings.Postgres.Direct, StringComparison.Ordinal); // Direct falls back to Pooled
    }

    [Fact]
    public void The_custom_handler_port_wins_and_binds_loopback_only()
    {
        var settings = Load(new() { ["Postgres:Pooled"] = ValidPostgres, ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "41234", ["urls"] = "http://0.0.0.0:80" });

        Assert.Equal("http://127.0.0.1:41234", settings.Hosting.ListenUrl);
        Assert.True(settings.Hosting.UnderFunctionsHost);
    }

    [Fact]
    public void Standard_otel_variables_are_honoured()
    {
        var settings = Load(new()
        {
            ["Postgres:Pooled"] = ValidPostgres,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "crm-x",
        });

        Assert.Equal(new Uri("http://127.0.0.1:4318"), settings.Observability.OtlpEndpoint);
        Assert.Equal(OtlpProtocol.HttpProtobuf, settings.Observability.OtlpProtocol);
        Assert.Equal("crm-x", settings.Observability.ServiceName);
    }

    [Fact]
    public void Test_endpoints_are_refused_in_production()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(new() { ["Postgres:Pooled"] = ValidPostgres, ["Diagnostics:TestEndpoints"] = "true" }));

        Assert.Equal("Diagnostics:TestEndpoints", Assert.Single(error.Problems).Setting);
        Assert.True(Load(new() { ["Postgres:Pooled"] = ValidPostgres, ["Diagnostics:TestEndpoints"] = "true" }, "Development").Diagnostics.TestEndpoints);
    }

    [Fact]
    public void The_readme_documents_every_setting_the_app_reads()
    {
        var reader = new SettingsReader(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Postgres:Pooled"] = ValidPostgres, ["Auth:SigningKey"] = "a-test-signing-key-that-is-long-enough-for-hs256" }).Build());
        AppSettings.Load(reader, new Environment("Production"));
        var readme = File.ReadAllText(AgentCrm.Tests.Support.RepoPaths.Path("README.md"));

        var undocumented = reader.SettingsRead
            .Where(s => s != "urls")
            .Where(s => !readme.Contains($"`{s.Replace(":", "__", StringComparison.Ordinal)}`", StringComparison.Ordinal))
            .ToList();
        Assert.True(undocumented.Count == 0, "README.md lacks: " + string.Join(", ", undocumented));
    }

    [Fact]
    public void A_short_signing_key_is_refused_and_not_echoed()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(new() { ["Postgres:Pooled"] = ValidPostgres, ["Auth:SigningKey"] = "too-short-secret" }));

        var problem = Assert.Single(error.Problems);
        Assert.Equal("Auth:SigningKey", problem.Setting);
        Assert.Contains("too short (16 bytes; HS256 needs at least 32)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("too-short-secret", error.Message, StringComparison.Ordinal);
    }

    private static AppSettings Load(Dictionary<string, string?> values, string environment = "Production")
    {
        values.TryAdd("Auth:SigningKey", "a-test-signing-key-that-is-long-enough-for-hs256");
        return AppSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), new Environment(environment));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "AgentCrm";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
