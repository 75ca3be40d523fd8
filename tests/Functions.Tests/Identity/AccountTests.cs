using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Identity;

public sealed class AccountTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db, new() { ["Auth:LockoutThreshold"] = "3" });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.test";

    private async Task<JsonElement> RegisterAsync(string email, string password = "correct horse 42")
    {
        var response = await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/register", null, new { email, password, displayName = "Ada" }));
        return await HttpAssert.JsonAsync(response, HttpStatusCode.Created);
    }

    private Task<HttpResponseMessage> LoginAsync(string email, string password) =>
        _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/login", null, new { email, password }));

    private Task<HttpResponseMessage> RefreshAsync(string token) =>
        _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/refresh", null, new { refreshToken = token }));

    [Fact]
    public async Task Register_answers_a_one_hour_access_token_and_a_refresh_token_that_works()
    {
        var email = NewEmail();
        var tokens = await RegisterAsync(email);

        Assert.Equal("Bearer", tokens.GetProperty("tokenType").GetString());
        Assert.InRange(tokens.GetProperty("expiresIn").GetInt32(), 3590, 3600);
        var me = await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", tokens.GetProperty("accessToken").GetString())), HttpStatusCode.OK);
        Assert.Equal(email, me.GetProperty("email").GetString());
        // The password is stored as an ASP.NET Core Identity PBKDF2 hash (format marker 0x01), never as given.
        var hash = await _db.ScalarAsync<string>($"SELECT password_hash FROM users WHERE email_normalized = '{email}'");
        Assert.Equal(1, Convert.FromBase64String(hash!)[0]);
    }

    [Theory]
    [InlineData("not-an-email", "correct horse 42", "email")]
    [InlineData("ok@example.test", "short1", "password")]
    [InlineData("ok@example.test", "onlyletterslong", "password")]
    [InlineData("ok@example.test", "password1234", "password")]
    public async Task Register_refuses_bad_emails_and_weak_passwords_with_an_errors_map(string email, string password, string field)
    {
        var response = await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/register", null, new { email, password, displayName = "Ada" }));

        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Register_with_an_email_already_taken_in_any_case_is_a_409()
    {
        var email = NewEmail();
        await RegisterAsync(email);

        var again = await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/register", null, new { email = email.ToUpperInvariant(), password = "another pass 99", displayName = "Eve" }));

        await HttpAssert.ProblemAsync(again, HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_email_answer_the_same_401()
    {
        var email = NewEmail();
        await RegisterAsync(email);

        var wrong = await HttpAssert.ProblemAsync(await LoginAsync(email, "wrong password 1"), HttpStatusCode.Unauthorized, "unauthorized");
        var unknown = await HttpAssert.ProblemAsync(await LoginAsync(NewEmail(), "wrong password 1"), HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(wrong.GetProperty("detail").GetString(), unknown.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Failed_logins_up_to_the_threshold_lock_the_account_even_for_the_right_password()
    {
        var email = NewEmail();
        await RegisterAsync(email);

        await HttpAssert.ProblemAsync(await LoginAsync(email, "wrong password 1"), HttpStatusCode.Unauthorized, "unauthorized");
        await HttpAssert.ProblemAsync(await LoginAsync(email, "wrong password 2"), HttpStatusCode.Unauthorized, "unauthorized");
        var locking = await LoginAsync(email, "wrong password 3");
        await HttpAssert.ProblemAsync(locking, HttpStatusCode.TooManyRequests, "account-locked");
        var right = await LoginAsync(email, "correct horse 42");

        await HttpAssert.ProblemAsync(right, HttpStatusCode.TooManyRequests, "account-locked");
        Assert.InRange(int.Parse(right.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 14 * 60, 15 * 60);
        var lockedFor = await _db.ScalarAsync<double>($"SELECT extract(epoch FROM locked_until - now())::float8 FROM users WHERE email_normalized = '{email}'");
        Assert.InRange(lockedFor, 14 * 60, 15 * 60);
    }

    [Fact]
    public async Task Logins_failures_and_logouts_are_in_the_audit_log()
    {
        var email = NewEmail();
        var tokens = await RegisterAsync(email);
        await LoginAsync(email, "wrong password 1");
        await LoginAsync(NewEmail(), "wrong password 1");
        await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/logout", tokens.GetProperty("accessToken").GetString()));
        var user = tokens.GetProperty("userId").GetGuid();

        Assert.Equal(1L, await _db.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE event = 'auth.login' AND actor_user_id = '{user}'"));
        Assert.Equal(1L, await _db.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE event = 'auth.failed_login' AND actor_user_id = '{user}' AND details->>'reason' = 'wrong_password'"));
        Assert.Equal(1L, await _db.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE event = 'auth.logout' AND actor_user_id = '{user}'"));
        Assert.True(await _db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE event = 'auth.failed_login' AND details->>'reason' = 'unknown_email'") >= 1);
    }

    [Fact]
    public async Task Concurrent_wrong_passwords_all_count_and_lock_the_account()
    {
        var email = NewEmail();
        await RegisterAsync(email);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => LoginAsync(email, $"wrong password {i}")));

        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        await HttpAssert.ProblemAsync(await LoginAsync(email, "correct horse 42"), HttpStatusCode.TooManyRequests, "account-locked");
    }

    [Fact]
    public async Task A_successful_login_resets_the_failure_count()
    {
        var email = NewEmail();
        await RegisterAsync(email);
        await LoginAsync(email, "wrong password 1");
        await LoginAsync(email, "wrong password 2");

        await HttpAssert.JsonAsync(await LoginAsync(email, "correct horse 42"), HttpStatusCode.OK);

        Assert.Equal(0, await _db.ScalarAsync<int>($"SELECT failed_logins FROM users WHERE email_normalized = '{email}'"));
    }

    [Fact]
    public async Task Refresh_rotates_and_reuse_of_a_rotated_token_revokes_the_whole_family()
    {
        var first = (await RegisterAsync(NewEmail())).GetProperty("refreshToken").GetString()!;

        var second = (await HttpAssert.JsonAsync(await RefreshAsync(first), HttpStatusCode.OK)).GetProperty("refreshToken").GetString()!;
        Assert.NotEqual(first, second);

        // The rotated token comes back (stolen copy): refused, and the family's live token dies with it.
        await HttpAssert.ProblemAsync(await RefreshAsync(first), HttpStatusCode.Unauthorized, "unauthorized");
        var afterReuse = await HttpAssert.ProblemAsync(await RefreshAsync(second), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("revoked", afterReuse.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_ends_the_session_so_its_refresh_token_no_longer_works()
    {
        var tokens = await RegisterAsync(NewEmail());

        var logout = await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/logout", tokens.GetProperty("accessToken").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        await HttpAssert.ProblemAsync(await RefreshAsync(tokens.GetProperty("refreshToken").GetString()!), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task An_expired_refresh_token_is_refused()
    {
        var tokens = await RegisterAsync(NewEmail());
        await _db.ScalarAsync<int>("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'");

        var refused = await HttpAssert.ProblemAsync(await RefreshAsync(tokens.GetProperty("refreshToken").GetString()!), HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Contains("expired", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_and_script_looking_names_are_stored_verbatim_and_returned_as_json_strings()
    {
        const string name = "Robert'); DROP TABLE users;-- <script>alert(1)</script>";
        var email = NewEmail();
        var response = await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/auth/register", null, new { email, password = "correct horse 42", displayName = name }));
        var token = (await HttpAssert.JsonAsync(response, HttpStatusCode.Created)).GetProperty("accessToken").GetString();

        var me = await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", token));

        Assert.Equal("application/json", me.Content.Headers.ContentType?.MediaType);
        Assert.Equal(name, (await HttpAssert.JsonAsync(me, HttpStatusCode.OK)).GetProperty("displayName").GetString());
        // Served as JSON that browsers may not sniff into HTML: the string stays data.
        Assert.Equal("nosniff", me.Headers.GetValues("X-Content-Type-Options").Single());
    }
}
