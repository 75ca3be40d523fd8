using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Tests.Platform;

public class PostgresConnectionStringTests
{
    [Fact]
    public void A_url_becomes_a_keyword_connection_string()
    {
        var builder = PostgresConnectionString.Parse("postgresql://crm%40app:p%3Ass@db.example:6432/agentcrm?sslmode=require");

        Assert.Equal("db.example", builder.Host);
        Assert.Equal(6432, builder.Port);
        Assert.Equal("agentcrm", builder.Database);
        Assert.Equal("crm@app", builder.Username);
        Assert.Equal("p:ss", builder.Password);
        Assert.Equal(Npgsql.SslMode.Require, builder.SslMode);
    }

    [Fact]
    public void Keyword_syntax_passes_through()
    {
        Assert.Equal(5433, PostgresConnectionString.Parse("Host=h;Port=5433;Database=d").Port);
    }

    [Fact]
    public void Redaction_drops_the_password()
    {
        var redacted = PostgresConnectionString.Redact("Host=h;Port=5433;Database=d;Username=u;Password=top-secret");

        Assert.Equal("Host=h;Port=5433;Database=d;Username=u", redacted);
    }
}
