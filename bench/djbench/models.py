"""The tables corm_migrate makes from examples/bookstore.corm, as Django
models (db_table / db_column match; managed=False: Django never creates or
alters them).  Only the models the benchmark reads are declared."""
from django.db import models


class Country(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=2, unique=True)

    class Meta:
        db_table = "country"
        managed = False


class Publisher(models.Model):
    name = models.CharField(max_length=100)
    country = models.ForeignKey(Country, models.SET_NULL, null=True, db_column="country_id")

    class Meta:
        db_table = "publisher"
        managed = False


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField()
    country = models.ForeignKey(Country, models.SET_NULL, null=True, db_column="country_id",
                                related_name="authors")
    bio = models.TextField(null=True)

    class Meta:
        db_table = "author"
        managed = False


class Genre(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        db_table = "genre"
        managed = False


class Book(models.Model):
    title = models.CharField(max_length=200, db_index=True)
    author = models.ForeignKey(Author, models.CASCADE, db_column="author_id", related_name="books")
    publisher = models.ForeignKey(Publisher, models.SET_NULL, null=True, db_column="publisher_id",
                                  related_name="books")
    published_date = models.DateField(null=True)
    isbn = models.CharField(max_length=13, unique=True)
    pages = models.IntegerField()
    price = models.DecimalField(max_digits=8, decimal_places=2)
    description = models.TextField()
    featured = models.BooleanField(default=False)
    # the auto-created through model reads book_genres(book_id, genre_id)
    genres = models.ManyToManyField(Genre, db_table="book_genres", related_name="books")

    class Meta:
        db_table = "book"
        managed = False


class User(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=100)
    account_manager = models.ForeignKey("self", models.SET_NULL, null=True,
                                        db_column="account_manager_id",
                                        related_name="managed_users")
    is_active = models.BooleanField(default=True)
    tenant_id = models.BigIntegerField(default=1)

    class Meta:
        db_table = "users"
        managed = False


class PaymentMethod(models.Model):
    user = models.ForeignKey(User, models.CASCADE, db_column="user_id",
                             related_name="payment_methods")
    kind = models.CharField(max_length=20)

    class Meta:
        db_table = "payment_method"
        managed = False


class Category(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "category"
        managed = False


class Product(models.Model):
    name = models.CharField(max_length=255)
    category = models.ForeignKey(Category, models.CASCADE, db_column="category_id",
                                 related_name="products")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    description = models.TextField(null=True)
    metadata = models.TextField(null=True)

    class Meta:
        db_table = "product"
        managed = False


class Order(models.Model):
    user = models.ForeignKey(User, models.CASCADE, db_column="user_id", related_name="orders")
    product = models.ForeignKey(Product, models.PROTECT, null=True, db_column="product_id",
                                related_name="orders")
    payment_method = models.ForeignKey(PaymentMethod, models.SET_NULL, null=True,
                                       db_column="payment_method_id")
    total = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=20, default="new", db_index=True)
    created_at = models.DateTimeField(db_index=True)
    tenant_id = models.BigIntegerField(default=1)

    class Meta:
        db_table = "orders"
        managed = False


class OrderItem(models.Model):
    order = models.ForeignKey(Order, models.CASCADE, db_column="order_id", related_name="items")
    product = models.ForeignKey(Product, models.PROTECT, db_column="product_id",
                                related_name="order_items")
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=8, decimal_places=2)
    is_cancelled = models.BooleanField(default=False)

    class Meta:
        db_table = "order_item"
        managed = False
