"""The notebook's pipeline on SQLAlchemy 2 (async ORM) + asyncpg: bottles' peer in `cargo xtask bench`.

Models and cells follow ../shared/seed/notebook.txt, without echo (bottles runs without it too):

  notebook.py once URL                        one reset + seed + query cells, then exit
  notebook.py pipeline URL --iterations N     the same N times on one engine; prints the median
                                              seconds of the whole run and of seed + query cells
  notebook.py bulk-seed URL --users U --messages M
                                              SQLAlchemy's bulk INSERT of U users and M messages
                                              into bottles' freshly reset tables; prints seconds
"""

import argparse
import asyncio
import itertools
import statistics
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    messages: Mapped[list["Message"]] = relationship(back_populates="user", order_by="Message.id")


class Message(Base):
    __tablename__ = "message"
    id: Mapped[int] = mapped_column(primary_key=True)
    content: Mapped[str]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    user: Mapped[User] = relationship(back_populates="messages")

    @classmethod
    async def afrom_user(cls, session, name):
        statement = sa.select(cls).join(User).where(User.name == name).order_by(cls.id)
        return (await session.scalars(statement)).all()


def engine_for(url):
    url = url.replace("postgres://", "postgresql+asyncpg://", 1).replace(
        "postgresql://", "postgresql+asyncpg://", 1
    )
    return create_async_engine(url, echo=False)


async def reset(engine):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def pipeline(engine):
    """The notebook's cells, in order; returns the seconds spent after reset."""
    session_factory = async_sessionmaker(engine, class_=AsyncSession)
    await reset(engine)
    started = time.perf_counter()

    users = [User(name="Nick"), User(name="Eli"), User(name="Paul")]
    async with session_factory() as session:
        session.add_all(users)
        await session.commit()

    cycle = itertools.cycle(users)
    messages = [
        Message(user=next(cycle), content=f"{i} bottles of beer on the wall...")
        for i in reversed(range(100))
    ]
    async with session_factory() as session:
        session.add_all(messages)
        await session.commit()

    async with session_factory() as session:
        user_count = await session.scalar(sa.select(sa.func.count(User.id)))
    async with session_factory() as session:
        message_count = await session.scalar(sa.select(sa.func.count(Message.id)))
    async with session_factory() as session:
        statement = sa.select(User).options(sa.orm.joinedload(User.messages))
        loaded = (await session.execute(statement)).unique().scalars().all()
        first_five = [m.content for m in loaded[0].messages[:5]]
    async with session_factory() as session:
        statement = sa.select(User).where(User.name == "Eli")
        statement = statement.options(sa.orm.selectinload(User.messages))
        eli = (await session.execute(statement)).scalars().first()
        eli_five = [m.content for m in eli.messages[:5]]
    async with session_factory() as session:
        from_eli = await Message.afrom_user(session, "Eli")

    assert (user_count, message_count, len(from_eli)) == (3, 100, 33), (user_count, message_count)
    assert first_five[0] == "99 bottles of beer on the wall..." and len(eli_five) == 5
    return time.perf_counter() - started


async def bulk_seed(engine, users, messages):
    session_factory = async_sessionmaker(engine, class_=AsyncSession)
    names = ["Nick", "Eli", "Paul"] + [f"User {i + 1}" for i in range(3, users)]
    started = time.perf_counter()
    async with session_factory() as session:
        result = await session.execute(
            sa.insert(User).returning(User.id, sort_by_parameter_order=True),
            [{"name": name} for name in names[:users]],
        )
        ids = result.scalars().all()
        await session.execute(
            sa.insert(Message),
            [
                {"content": f"{messages - 1 - k} bottles of beer on the wall...", "user_id": ids[k % users]}
                for k in range(messages)
            ],
        )
        await session.commit()
    return time.perf_counter() - started


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["once", "pipeline", "bulk-seed"])
    parser.add_argument("url")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()

    engine = engine_for(args.url)
    try:
        if args.mode == "once":
            await pipeline(engine)
        elif args.mode == "pipeline":
            await pipeline(engine)  # warm-up: connections, statement caches, mapper configuration
            totals, after_reset = [], []
            for _ in range(args.iterations):
                started = time.perf_counter()
                after_reset.append(await pipeline(engine))
                totals.append(time.perf_counter() - started)
            print(statistics.median(totals), statistics.median(after_reset))
        else:
            print(await bulk_seed(engine, args.users, args.messages))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
