def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="login"' in response.data and b'name="password"' in response.data


def test_admin_lands_on_dashboard(client, estate_pair, login):
    response = login("admin@alpha.test")
    assert response.headers["Location"] == "/e/alpha/admin/"
    page = client.get("/e/alpha/admin/")
    assert b"Estate dashboard" in page.data
